/**
 * The emulator's control surface for tests and the page: act as a member (send text, click a card
 * button, verify the callback URL), inject faults, expire tokens, reset.
 */
import { buildXml, type CallbackSender, cdata } from './callback-sender';
import { clickableKeys } from './card-validation';
import type { FaultInjector } from './faults';
import type { RouteDeps } from './http-util';
import { EmulatorInputError, isObject } from './http-util';
import type { CallbackOutcome, CardView, ChatMessage, Fault, JsonObject, VerifyOutcome } from './types';

export interface SelectedItem {
  questionKey: string;
  optionIds: string[];
}

export interface ClickOptions {
  /** The card's task_id; when omitted, the member's latest card with a task id. */
  taskId?: string;
  eventKey?: string;
  /** Find the button by its text instead of its key. */
  buttonText?: string;
  /** For vote/multiple cards; defaults to the card's preselected options. */
  selectedItems?: SelectedItem[];
}

const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** The choices a member submits when they change nothing: preselected options, else the first. */
function defaultSelection(card: JsonObject): SelectedItem[] {
  if (isObject(card.checkbox)) {
    const options = list(card.checkbox.option_list);
    const checked = options.filter((o) => o.is_checked === true);
    const ids = (checked.length ? checked : options.slice(0, 1)).map((o) => String(o.id));
    return [{ questionKey: String(card.checkbox.question_key), optionIds: ids }];
  }
  return list(card.select_list).map((s) => {
    const options = list(s.option_list);
    const chosen = options.find((o) => o.id === s.selected_id) ?? options[0];
    return { questionKey: String(s.question_key), optionIds: chosen ? [String(chosen.id)] : [] };
  });
}

function selectedItemsXml(items: SelectedItem[]): string {
  const inner = items.map((i) => {
    const ids = i.optionIds.map((id) => `<OptionId>${cdata(id)}</OptionId>`).join('');
    return `<SelectedItem><QuestionKey>${cdata(i.questionKey)}</QuestionKey><OptionIds>${ids}</OptionIds></SelectedItem>`;
  });
  return `<SelectedItems>${inner.join('')}</SelectedItems>`;
}

export class WecomControl {
  constructor(
    private readonly deps: RouteDeps,
    private readonly sender: CallbackSender,
    private readonly faults: FaultInjector,
  ) {}

  /** The next n API calls (to `path` only, when given) fail with `fault`. */
  failNext(n: number, fault: Fault, options: { path?: string } = {}): void {
    this.faults.add(n, fault, options.path);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Every issued token answers 42001 from now on (WeCom may expire tokens early, path 91039). */
  expireTokens(): void {
    this.deps.state.expireTokens();
  }

  reset(): void {
    this.faults.clear();
    this.deps.state.reset();
  }

  setCallbackUrl(url: string | undefined): void {
    this.deps.settings.callbackUrl = url;
  }

  /** The member's latest card (with `taskId`, when given). */
  findLatestCard(userid: string, taskId?: string): (ChatMessage & { card: CardView }) | undefined {
    return this.deps.state
      .cards(userid, taskId)
      .find((m) => taskId !== undefined || m.card.taskId !== undefined);
  }

  private requireMember(userid: string): void {
    if (!this.deps.state.hasMember(userid)) throw new EmulatorInputError(404, `unknown member ${userid}`);
    if (!this.deps.settings.callbackUrl) throw new EmulatorInputError(409, 'no callbackUrl configured');
  }

  /** The member writes `content` to the app: a text message callback (path 90239 format). */
  async sendText(userid: string, content: string): Promise<CallbackOutcome> {
    this.requireMember(userid);
    if (!content) throw new EmulatorInputError(400, 'content must not be empty');
    const { state, settings } = this.deps;
    const msgId = state.nextMsgId();
    const createTime = Math.floor(state.nowMs() / 1000);
    const xml = buildXml([
      ['ToUserName', settings.corpId],
      ['FromUserName', userid],
      ['CreateTime', createTime],
      ['MsgType', 'text'],
      ['Content', content],
      ['MsgId', msgId],
      ['AgentID', settings.agentId],
    ]);
    state.appendToMember(userid, { direction: 'in', msgtype: 'text', msgid: msgId, text: content });
    return this.sender.deliver(xml, createTime, { msgId });
  }

  /**
   * Delivers an earlier callback again, byte for byte in plaintext (same MsgId, same CreateTime), as
   * WeCom does when our answer was slow or lost (path 90238: three retries, deduplicate by MsgId).
   */
  async redeliver(previous: CallbackOutcome): Promise<CallbackOutcome> {
    return this.sender.deliver(previous.plaintext, previous.createTime, {
      ...(previous.msgId !== undefined ? { msgId: previous.msgId } : {}),
      ...(previous.responseCode !== undefined ? { responseCode: previous.responseCode } : {}),
    });
  }

  /** The member clicks a button of a card: a template_card_event callback (path 90240). */
  async clickButton(userid: string, options: ClickOptions): Promise<CallbackOutcome> {
    this.requireMember(userid);
    const found = this.findLatestCard(userid, options.taskId);
    if (!found) throw new EmulatorInputError(404, `no card ${options.taskId ?? ''} in ${userid}'s chat`);
    const view = found.card;
    // After update_template_card with replace_name the client greys the buttons out: no more clicks.
    if (view.disabled) throw new EmulatorInputError(409, `card ${view.taskId} was updated, buttons disabled`);
    const taskId = view.taskId!;
    let eventKey = options.eventKey;
    if (eventKey === undefined && options.buttonText !== undefined) {
      const button = list(view.card.button_list).find((b) => b.text === options.buttonText);
      eventKey = typeof button?.key === 'string' ? button.key : undefined;
    }
    if (eventKey === undefined || !clickableKeys(view.card).includes(eventKey)) {
      throw new EmulatorInputError(400, `card ${taskId} has no button ${eventKey ?? options.buttonText}`);
    }
    const { state, settings } = this.deps;
    const responseCode = state.issueResponseCode(taskId);
    const createTime = Math.floor(state.nowMs() / 1000);
    let xml = buildXml([
      ['ToUserName', settings.corpId],
      ['FromUserName', userid],
      ['CreateTime', createTime],
      ['MsgType', 'event'],
      ['Event', 'template_card_event'],
      ['EventKey', eventKey],
      ['TaskId', taskId],
      ['CardType', view.cardType],
      ['ResponseCode', responseCode],
      ['AgentID', settings.agentId],
    ]);
    const isSubmit = isObject(view.card.submit_button) && view.card.submit_button.key === eventKey;
    if (isSubmit) {
      const items = options.selectedItems ?? defaultSelection(view.card);
      xml = xml.replace(/<\/xml>$/, `${selectedItemsXml(items)}</xml>`);
    }
    state.appendToMember(userid, {
      direction: 'in',
      msgtype: 'event',
      msgid: undefined,
      event: { taskId, eventKey, responseCode },
    });
    return this.sender.deliver(xml, createTime, { responseCode });
  }

  verifyUrl(): Promise<VerifyOutcome> {
    return this.sender.verifyUrl();
  }
}
