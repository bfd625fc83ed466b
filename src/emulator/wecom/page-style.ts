/**
 * The emulator page's stylesheet, modelled on the WeCom desktop client: a conversation list on the
 * left, the chat on the right, app messages as template cards or bubbles, the member's own messages
 * in blue on the right. No external fonts or images.
 */
export const PAGE_STYLE = `
*{box-sizing:border-box}
html,body{height:100%;margin:0}
body{font:14px/1.5 -apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",system-ui,sans-serif;color:#1f2329;background:#e9ebee;display:flex;flex-direction:column}
#top{display:flex;align-items:center;gap:12px;height:44px;padding:0 16px;background:#2a3440;color:#fff;flex:none}
#top .logo{font-weight:600;font-size:15px}#top .corp{color:#9aa5b1;font-size:12px}
#top .live{margin-left:auto;font-size:12px;color:#9aa5b1;display:flex;align-items:center;gap:6px}
#top .dot{width:8px;height:8px;border-radius:50%;background:#888}
#top .live.on .dot{background:#2bbf6a}#top .live.off .dot{background:#e5483d}
#app{flex:1;display:flex;min-height:0}
#side{width:280px;flex:none;background:#f5f6f7;border-right:1px solid #dee0e3;display:flex;flex-direction:column;min-height:0}
#side .scroll{flex:1;overflow-y:auto}
#side h2{font-size:12px;font-weight:500;color:#8f959e;margin:12px 16px 4px}
#side ul{list-style:none;margin:0;padding:0}
.conv{display:flex;align-items:center;gap:10px;padding:9px 14px;cursor:pointer;position:relative}
.conv:hover{background:#eceef0}.conv.on{background:#dde7f9}
.avatar{width:36px;height:36px;border-radius:6px;flex:none;display:flex;align-items:center;justify-content:center;color:#fff;font-size:15px;font-weight:500;background:#5b8ff9}
.avatar.c1{background:#3c8cf0}.avatar.c2{background:#2bbf6a}.avatar.c3{background:#f29b38}.avatar.c4{background:#8a63d2}.avatar.c5{background:#e5605b}.avatar.c6{background:#17a2b8}
.avatar.app{background:#1f6feb;font-size:13px}.avatar.bot{background:#f0b429;font-size:11px}.avatar.grp{background:#7b8794}
.conv .who{flex:1;min-width:0}
.conv .who b{display:block;font-weight:500;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.conv .who small{display:block;color:#8f959e;font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.conv .badge{min-width:18px;height:18px;border-radius:9px;background:#f54a45;color:#fff;font-size:11px;line-height:18px;text-align:center;padding:0 5px;display:none}
.conv .badge.show{display:block}
#stats{border-top:1px solid #dee0e3;padding:8px 14px;font-size:12px;color:#646a73;flex:none}
#stats summary{cursor:pointer;color:#8f959e}
#stats .kv{display:flex;justify-content:space-between}
#pane{flex:1;display:flex;flex-direction:column;min-width:0;background:#f5f6f7}
#pane-head{height:56px;flex:none;display:flex;align-items:center;gap:10px;padding:0 20px;border-bottom:1px solid #dee0e3;background:#fff}
#pane-head .t{font-size:16px;font-weight:500}#pane-head .s{color:#8f959e;font-size:12px}
#messages{flex:1;overflow-y:auto;padding:16px 24px;display:flex;flex-direction:column;gap:14px}
.empty{color:#8f959e;text-align:center;margin-top:40px}
.m{display:flex;gap:10px;align-items:flex-start;max-width:100%}
.m.mine{flex-direction:row-reverse}
.m .body{display:flex;flex-direction:column;min-width:0;max-width:560px}
.m.mine .body{align-items:flex-end}
.m .meta{font-size:12px;color:#8f959e;margin-bottom:3px}
.bubble{background:#fff;border-radius:6px;padding:8px 12px;white-space:pre-wrap;word-break:break-word;box-shadow:0 1px 1px rgba(0,0,0,.04)}
.m.mine .bubble{background:#cce0ff}
.sys{align-self:center;font-size:12px;color:#8f959e;background:#e9ebee;border-radius:4px;padding:2px 10px}
.warn{font-size:12px;color:#c9641b;margin-top:2px}
.md{white-space:normal}.md .ln{min-height:1.5em;white-space:pre-wrap}.md .h1,.md .h2{font-size:16px;font-weight:600}.md .h3,.md .h4,.md .h5,.md .h6{font-weight:600}
.md .q{border-left:3px solid #dee0e3;padding-left:8px;color:#646a73}
.md .info{color:#2bbf6a}.md .comment{color:#8f959e}.md .warning{color:#f29b38}
.md code{background:#f2f3f5;border-radius:3px;padding:0 3px;font-size:13px}
a{color:#3370ff;text-decoration:none}
.card{width:380px;max-width:100%;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:14px 16px 12px}
.card .src{font-size:12px;color:#8f959e;margin-bottom:6px}.card .src.c1{color:#1f2329}.card .src.c2{color:#f54a45}.card .src.c3{color:#2bbf6a}
.card .title{font-size:17px;font-weight:600;line-height:1.4}
.card .desc{font-size:13px;color:#8f959e;margin-top:2px}
.card .emph{margin:10px 0 4px}.card .emph .v{font-size:28px;font-weight:600;color:#3370ff;line-height:1.2}.card .emph .d{font-size:12px;color:#8f959e}
.card .quote{background:#f5f6f7;border-radius:4px;padding:8px 10px;margin:8px 0;font-size:13px;color:#646a73;white-space:pre-wrap}
.card .quote b{display:block;color:#1f2329;font-weight:500}
.card .sub{margin:8px 0;font-size:14px;white-space:pre-wrap;color:#373c43}
.card .rows{margin:8px 0 4px}.card .row{display:flex;gap:12px;font-size:14px;padding:2px 0}
.card .row .k{color:#8f959e;width:64px;flex:none}.card .row .v{flex:1;min-width:0;word-break:break-all}
.card .jump{font-size:13px;margin-top:4px}
.card .opts{margin:6px 0;font-size:13px}
.card .btns{display:flex;gap:8px;margin-top:12px;flex-wrap:wrap}
.card .btns button{flex:1;min-width:72px;height:34px;border-radius:6px;font-size:14px;cursor:pointer;border:1px solid #dee0e3;background:#fff;color:#1f2329}
.card .btns button.s1{background:#3370ff;border-color:#3370ff;color:#fff}
.card .btns button.s3{color:#f54a45}
.card .btns button.s4{border-color:transparent;color:#3370ff}
.card .btns button:disabled,.card .btns button.pending{background:#f2f3f5;border-color:#f2f3f5;color:#a8abb2;cursor:default}
.card .foot{font-size:12px;color:#a8abb2;margin-top:8px}
.card.done .title{color:#646a73}
.card img{max-width:100%}
.news{display:block;padding:6px 0;border-top:1px solid #f0f1f2}.news:first-child{border-top:0}
.img{max-width:360px;border-radius:6px;background:#fff}
#composer{flex:none;border-top:1px solid #dee0e3;background:#fff;padding:8px 16px 12px}
#composer[hidden]{display:none}
#chips{display:flex;gap:6px;flex-wrap:wrap;margin-bottom:6px}
#chips button{border:1px solid #dee0e3;background:#f5f6f7;border-radius:12px;padding:2px 10px;font-size:12px;cursor:pointer;color:#373c43}
#chips button:hover{border-color:#3370ff;color:#3370ff}
#composer .line{display:flex;gap:8px;align-items:flex-end}
#input{flex:1;resize:none;height:60px;border:1px solid #dee0e3;border-radius:6px;padding:6px 10px;font:inherit;outline:none}
#input:focus{border-color:#3370ff}
#send{height:34px;padding:0 18px;border:0;border-radius:6px;background:#3370ff;color:#fff;cursor:pointer;font-size:14px}
#composer .hint{font-size:12px;color:#a8abb2;margin-top:4px}
#toast{position:fixed;left:50%;top:60px;transform:translateX(-50%);background:rgba(31,35,41,.9);color:#fff;padding:8px 14px;border-radius:6px;font-size:13px;display:none;z-index:9}
#toast.show{display:block}
`;
