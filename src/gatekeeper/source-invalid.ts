import { BouncerError } from '../errors/errors.js';

/** The error for a Gatekeeper object that does not follow the contract: `<where>: <message>`. */
export function sourceInvalid(where: string, message: string): BouncerError {
  return new BouncerError('POLICY_SOURCE_INVALID', `${where}: ${message}`);
}
