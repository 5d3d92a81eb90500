// The HTTP edge's answers for requests that cannot be evaluated. A body that names a
// uid is still answered with an AdmissionReview (HTTP 200, allowed: false, the uid
// echoed), so the API server shows our message; anything else gets a precise 4xx with a
// Kubernetes Status body.
import { BouncerError, ERRORS, type ErrorCode } from '../errors/errors.js';

export interface KubeStatus {
  readonly apiVersion: 'v1';
  readonly kind: 'Status';
  readonly status: 'Failure';
  readonly code: number;
  readonly reason: ErrorCode;
  readonly message: string;
}

export function statusBody(err: BouncerError): KubeStatus {
  return { apiVersion: 'v1', kind: 'Status', status: 'Failure', code: err.status, reason: err.code, message: err.message };
}

/**
 * Maps fastify's own body errors (size, content type) onto the registry's codes. Any other
 * 4xx fastify raises is the client's (REVIEW_INVALID); an error without a client status is
 * ours (INTERNAL, 500), never blamed on the review.
 */
export function fromFastifyError(err: { code?: string; statusCode?: number; message: string }): BouncerError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BouncerError('REVIEW_TOO_LARGE', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new BouncerError('REVIEW_CONTENT_TYPE', 'the request must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new BouncerError('REVIEW_EMPTY', ERRORS.REVIEW_EMPTY.meaning);
    default:
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new BouncerError('REVIEW_INVALID', err.message);
      return new BouncerError('INTERNAL', 'internal error while handling the request', { cause: err });
  }
}
