import { randomUUID } from 'node:crypto';
import { type PropertyError, describePropertyErrors } from './contact-properties.util';

/** What a route handler answers; the router adds headers common to every response. */
export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type ErrorCategory =
  | 'VALIDATION_ERROR'
  | 'OBJECT_NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_AUTHENTICATION'
  | 'INTERNAL_ERROR'
  | 'SERVICE_UNAVAILABLE'
  | 'RATE_LIMITS';

export type RateLimitPolicyName = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

export interface ErrorDetail {
  message: string;
  in?: string;
  code?: string;
  context?: Record<string, string[]>;
}

/** HubSpot's error body: always `status: "error"`, a message, a category and a correlation id. */
export function errorAnswer(
  status: number,
  category: ErrorCategory,
  message: string,
  extra: { errors?: ErrorDetail[]; context?: Record<string, string[]> } = {},
): ApiAnswer {
  return {
    status,
    body: {
      status: 'error',
      message,
      correlationId: randomUUID(),
      category,
      ...(extra.context ? { context: extra.context } : {}),
      ...(extra.errors ? { errors: extra.errors } : {}),
    },
  };
}

export function validationAnswer(message: string, errors?: ErrorDetail[]): ApiAnswer {
  return errorAnswer(400, 'VALIDATION_ERROR', message, errors ? { errors } : {});
}

export function propertyErrorsAnswer(errors: readonly PropertyError[]): ApiAnswer {
  return validationAnswer(describePropertyErrors(errors), [...errors]);
}

export function notFoundAnswer(id: string): ApiAnswer {
  return errorAnswer(404, 'OBJECT_NOT_FOUND', `resource not found: no contact with id ${id}`, {
    context: { id: [id] },
  });
}

export function conflictMessage(existingId: string): string {
  return `Contact already exists. Existing ID: ${existingId}`;
}

const RATE_LIMIT_MESSAGES: Record<RateLimitPolicyName, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
};

/** 429 bodies carry `errorType` and `policyName` instead of a category. */
export function rateLimitAnswer(policyName: RateLimitPolicyName, headers: Record<string, string> = {}): ApiAnswer {
  return {
    status: 429,
    headers,
    body: {
      status: 'error',
      message: RATE_LIMIT_MESSAGES[policyName],
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName,
    },
  };
}
