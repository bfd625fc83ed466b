/** Timer kind of a member's reminder (`提醒 123 明天下午3点 回访`) and of the contacted call-back. */
export const REMINDER_TIMER_KIND = 'lead.reminder';
