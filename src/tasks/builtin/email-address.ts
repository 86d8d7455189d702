/**
 * What an email address may be in a payload: a bare `local@domain` in ASCII, nothing else. No display
 * names, comments, quoted local parts, IP-literal domains or groups: each of those has been a way to
 * smuggle a second address or a header past a mailer (CVE-2021-23400 was address-object injection),
 * and a task queue does not need them. The domain needs at least one dot and a letter-first TLD.
 */
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const TLD = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';

/** For the payload schema (JSON Schema `pattern`, no flags needed). */
export const EMAIL_ADDRESS_PATTERN = `^${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)+${TLD}$`;
export const EMAIL_ADDRESS_MAX_LENGTH = 254;
const LOCAL_PART_MAX_LENGTH = 64;

const ADDRESS = new RegExp(EMAIL_ADDRESS_PATTERN);

export function isEmailAddress(value: string): boolean {
  if (value.length > EMAIL_ADDRESS_MAX_LENGTH || !ADDRESS.test(value)) return false;
  return value.indexOf('@') <= LOCAL_PART_MAX_LENGTH;
}
