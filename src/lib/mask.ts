/**
 * Masking of personal data for group chats and logs (RELIABILITY.md, "Authorization and personal
 * data" 3): 138****1234 and 张*. The full values go only to the owner in one-to-one messages.
 */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return '';
  const digits = phone.replace(/\D/g, '');
  const national = digits.startsWith('86') && digits.length === 13 ? digits.slice(2) : digits;
  if (national.length < 7) return '*'.repeat(national.length);
  return `${national.slice(0, 3)}****${national.slice(-4)}`;
}

export function maskName(name: string | null | undefined): string {
  if (!name) return '';
  const chars = Array.from(name.trim());
  if (chars.length === 0) return '';
  // Latin names: keep the initial of the first word.
  if (/^[A-Za-z]/.test(chars[0]!)) return `${chars[0]}***`;
  return `${chars[0]}${'*'.repeat(Math.max(1, chars.length - 1))}`;
}

export function maskEmail(email: string | null | undefined): string {
  if (!email) return '';
  const at = email.indexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

// A mainland mobile, optionally +86/0086/86 in front and spaces or dashes between its groups, not part
// of a longer digit run (an order number, a millisecond timestamp); and e-mail addresses.
const MOBILE_IN_TEXT = /(?<![\d+])(?:(?:\+|00)?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)/g;
// Any other E.164 number (`+85291234567`): a plus and 8 to 15 digits.
const E164_IN_TEXT = /\+\d{8,15}(?!\d)/g;
const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const MAYBE_CONTACT = /\d{7}|@/;

/**
 * Masks phone numbers and e-mail addresses wherever they occur in free text (138****1234,
 * z***@corp.com): for logs and error messages, which must carry ids, never contact details
 * (RELIABILITY.md "Authorization and personal data" 3). Names cannot be found in free text: callers
 * keep them out instead.
 */
export function redactContacts(text: string): string {
  if (!MAYBE_CONTACT.test(text)) return text;
  return text
    .replace(MOBILE_IN_TEXT, (m) => maskPhone(m))
    .replace(E164_IN_TEXT, (m) => maskPhone(m))
    .replace(EMAIL_IN_TEXT, (m) => maskEmail(m));
}
