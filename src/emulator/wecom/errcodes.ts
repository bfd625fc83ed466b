/**
 * WeCom error codes the emulator answers with. Confirmed ones come from the global code list
 * (developer.work.weixin.qq.com/document/path/90313, mirrored by go-workwx's generated errcodes);
 * codes we could not confirm live in `UnconfirmedErrcodes` (types.ts) and are configurable.
 */
export const ERR = {
  busy: -1,
  ok: 0,
  invalidSecret: 40001,
  invalidMsgtype: 40008,
  invalidImageSize: 40009,
  invalidMediaType: 40004,
  invalidCorpId: 40013,
  invalidToken: 40014,
  invalidUserList: 40032,
  invalidParamEmptyRecipients: 40035,
  invalidAgentId: 40056,
  missingToken: 41001,
  missingCorpId: 41002,
  missingSecret: 41004,
  missingAgentId: 41011,
  tokenExpired: 42001,
  /** "taskid has existed or empty or exceed max len" (seen in the wild for a reused task_id). */
  taskIdInvalid: 42014,
  cardHorizontalKeyname: 42027,
  cardTypeInvalid: 42031,
  cardHorizontalLength: 42035,
  cardOptionListLength: 42037,
  cardButtonText: 42038,
  cardButtonKey: 42039,
  cardJumpListLength: 42042,
  cardQuestionKey: 42043,
  cardImage: 42044,
  cardAction: 42045,
  cardSubmitKey: 42046,
  cardSelectList: 42047,
  appNeedsCallbackUrl: 43012,
  emptyTextContent: 44004,
  freqOutOfLimit: 45009,
  allRecipientsInvalid: 81013,
  invalidWebhook: 93000,
  agentNotAllowed: 301002,
} as const;

const MESSAGES: Record<number, string> = {
  [-1]: 'system busy',
  0: 'ok',
  40001: 'invalid credential',
  40004: 'invalid media type',
  40008: 'invalid message type',
  40009: 'invalid image size',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40032: 'invalid user list length',
  40035: 'invalid parameter, touser/toparty/totag all empty',
  40056: 'invalid agentid',
  40058: 'invalid parameter',
  41001: 'access_token missing',
  41002: 'corpid missing',
  41004: 'corpsecret missing',
  41011: 'agentid missing',
  42001: 'access_token expired',
  42014: 'taskid has existed or empty or exceed max len',
  42031: 'invalid template_card.card_type',
  43012: 'app needs a callback url to send interactive cards',
  44004: 'empty content',
  45002: 'content size out of limit',
  45009: 'api freq out of limit',
  81013: 'user & party & tag all invalid',
  93000: 'invalid webhook url',
  301002: 'api forbidden for this agent',
};

/** The `{errcode, errmsg}` body WeCom answers with (HTTP 200). */
export function wecomError(errcode: number, detail?: string): { errcode: number; errmsg: string } {
  const base = MESSAGES[errcode] ?? 'error';
  return { errcode, errmsg: detail ? `${base}: ${detail}` : base };
}
