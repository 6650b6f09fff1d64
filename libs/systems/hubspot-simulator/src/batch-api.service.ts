import { z } from 'zod';
import {
  type ApiAnswer,
  type ErrorCategory,
  type ErrorDetail,
  conflictMessage,
  errorAnswer,
  validationAnswer,
} from './api-answer.util';
import { type ApiRequest, type ContactsApiContext, findByIdProperty, isSupportedIdProperty } from './api-request.interface';
import { type PropertyError, describePropertyErrors } from './contact-properties.util';
import { type ApiContact, renderContact } from './contact-representation.util';
import type { StoredContact, WriteFailure } from './contact-store.service';

const BATCH_MAX_INPUTS = 100;

const id = z.union([z.string().min(1), z.number().int().nonnegative().transform(String)]);
const properties = z.record(z.string(), z.unknown());

const ReadBodySchema = z.object({
  inputs: z.array(z.object({ id })),
  properties: z.array(z.string()).optional(),
  propertiesWithHistory: z.array(z.string()).optional(),
  idProperty: z.string().optional(),
});
/**
 * HubSpot reads fewer objects per request when their history is asked for; whether batch read's
 * bound is then 50 is not certain, so the simulator holds clients to the stricter answer.
 */
const HISTORY_BATCH_MAX_INPUTS = 50;
const CreateBodySchema = z.object({ inputs: z.array(z.object({ properties })) });
const UpdateBodySchema = z.object({
  inputs: z.array(z.object({ id, properties, idProperty: z.string().optional() })),
});
const UpsertBodySchema = z.object({
  inputs: z.array(z.object({ id, idProperty: z.string().optional(), properties })),
});
const ArchiveBodySchema = z.object({ inputs: z.array(z.object({ id })) });

/** One entry of a batch answer's `errors`. */
interface BatchError {
  status: 'error';
  category: ErrorCategory;
  message: string;
  /** Names the failing inputs: `ids` for inputs addressed by id (or email), `email` for creates. */
  context: Record<string, string[]>;
  errors: ErrorDetail[];
  /** The HTTP status this error would have on its own; used when every input fails. */
  httpStatus: number;
}

type Parsed<T> = { ok: true; body: T } | { ok: false; answer: ApiAnswer };

/** The batch endpoints: at most 100 inputs; per-input failures come back as a 207 beside the successes. */
export class BatchApi {
  constructor(private readonly context: ContactsApiContext) {}

  read(request: ApiRequest): ApiAnswer {
    const startedAt = new Date().toISOString();
    const parsed = parseBatch(ReadBodySchema, request.body);
    if (!parsed.ok) return parsed.answer;
    const { inputs, idProperty, propertiesWithHistory = [] } = parsed.body;
    if (!isSupportedIdProperty(idProperty)) return validationAnswer(`${String(idProperty)} is not a unique property`);
    if (propertiesWithHistory.length > 0 && inputs.length > HISTORY_BATCH_MAX_INPUTS) {
      return validationAnswer(`The maximum number of inputs supported in a batch with propertiesWithHistory is ${HISTORY_BATCH_MAX_INPUTS}. Received ${inputs.length} inputs.`);
    }
    const archived = request.query.get('archived') === 'true';
    const results: ApiContact[] = [];
    const seen = new Set<string>();
    const errors: BatchError[] = [];
    for (const input of inputs) {
      const contact = archived ? this.archived(input.id) : findByIdProperty(this.context.store, input.id, idProperty);
      if (!contact) errors.push(notFoundError(input.id));
      else if (!seen.has(contact.id)) {
        seen.add(contact.id);
        results.push(renderContact(contact, this.context.catalog, parsed.body.properties ?? null, propertiesWithHistory));
      }
    }
    return batchAnswer(200, results, errors, startedAt);
  }

  create(request: ApiRequest): ApiAnswer {
    const startedAt = new Date().toISOString();
    const parsed = parseBatch(CreateBodySchema, request.body);
    if (!parsed.ok) return parsed.answer;
    const rejected = this.rejectInvalid(parsed.body.inputs.map((input) => ({ properties: input.properties })));
    if (rejected) return rejected;
    const results: ApiContact[] = [];
    const errors: BatchError[] = [];
    for (const input of parsed.body.inputs) {
      const written = this.context.store.create(input.properties, 'INTEGRATION');
      const email = typeof input.properties.email === 'string' ? { email: [input.properties.email] } : {};
      if (written.ok) results.push(this.renderWritten(written.contact, input.properties));
      else errors.push(writeError(written.failure, email));
    }
    return batchAnswer(201, results, errors, startedAt);
  }

  update(request: ApiRequest): ApiAnswer {
    const startedAt = new Date().toISOString();
    const parsed = parseBatch(UpdateBodySchema, request.body);
    if (!parsed.ok) return parsed.answer;
    const { inputs } = parsed.body;
    const unsupported = inputs.find((input) => !isSupportedIdProperty(input.idProperty));
    if (unsupported) return validationAnswer(`${String(unsupported.idProperty)} is not a unique property`);
    const duplicates = duplicateIds(inputs.map((input) => input.id));
    if (duplicates.length > 0) {
      return validationAnswer(`Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`);
    }
    const rejected = this.rejectInvalid(inputs);
    if (rejected) return rejected;
    const results: ApiContact[] = [];
    const errors: BatchError[] = [];
    for (const input of inputs) {
      const contact = findByIdProperty(this.context.store, input.id, input.idProperty);
      if (!contact) {
        errors.push(notFoundError(input.id));
        continue;
      }
      const written = this.context.store.update(contact.id, input.properties, 'INTEGRATION');
      if (written.ok) results.push(this.renderWritten(written.contact, input.properties));
      else errors.push(writeError(written.failure, { ids: [input.id] }));
    }
    return batchAnswer(200, results, errors, startedAt);
  }

  /** By email: updates the active contact with that email, or creates one; each result says which. */
  upsert(request: ApiRequest): ApiAnswer {
    const startedAt = new Date().toISOString();
    const parsed = parseBatch(UpsertBodySchema, request.body);
    if (!parsed.ok) return parsed.answer;
    const { inputs } = parsed.body;
    const unsupported = inputs.find((input) => input.idProperty !== 'email');
    if (unsupported) {
      return validationAnswer(
        `idProperty must be a unique property (email) for upserts, got ${String(unsupported.idProperty)}`,
      );
    }
    const duplicates = duplicateIds(inputs.map((input) => input.id.toLowerCase()));
    if (duplicates.length > 0) {
      return validationAnswer(`Duplicate IDs found in batch input: [${duplicates.join(', ')}]. IDs must be unique`);
    }
    const rejected = this.rejectInvalid(inputs.map((input) => ({ ...input, properties: upsertProperties(input) })));
    if (rejected) return rejected;
    const results: Array<ApiContact & { new: boolean }> = [];
    const errors: BatchError[] = [];
    for (const input of inputs) {
      const existing = this.context.store.findActiveByEmail(input.id);
      const written = existing
        ? this.context.store.update(existing.id, input.properties, 'INTEGRATION')
        : this.context.store.create(upsertProperties(input), 'INTEGRATION');
      if (written.ok) results.push({ ...this.renderWritten(written.contact, upsertProperties(input)), new: !existing });
      else errors.push(writeError(written.failure, { ids: [input.id] }));
    }
    return batchAnswer(200, results, errors, startedAt);
  }

  /** 204 always: unknown and already archived ids are fine. */
  archive(request: ApiRequest): ApiAnswer {
    const parsed = parseBatch(ArchiveBodySchema, request.body);
    if (!parsed.ok) return parsed.answer;
    for (const input of parsed.body.inputs) this.context.store.archive(input.id, 'INTEGRATION');
    return { status: 204 };
  }

  /** In 'reject-batch' mode an invalid value anywhere rejects the whole batch before anything is written. */
  private rejectInvalid(inputs: ReadonlyArray<{ properties: unknown }>): ApiAnswer | null {
    if (this.context.batchValidation !== 'reject-batch') return null;
    const errors = inputs.flatMap((input) => {
      const validation = this.context.catalog.validateWrite(input.properties);
      return validation.ok ? [] : validation.errors;
    });
    return errors.length > 0 ? validationAnswer(describePropertyErrors(errors), errors) : null;
  }

  private archived(contactId: string): StoredContact | undefined {
    const contact = this.context.store.get(contactId);
    return contact?.archived ? contact : undefined;
  }

  private renderWritten(contact: StoredContact, written: Record<string, unknown>): ApiContact {
    return renderContact(contact, this.context.catalog, Object.keys(written));
  }
}

function parseBatch<T extends { inputs: unknown[] }>(schema: z.ZodType<T>, body: unknown): Parsed<T> {
  const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
  if (Array.isArray(inputs) && inputs.length > BATCH_MAX_INPUTS) {
    return {
      ok: false,
      answer: validationAnswer(
        `The maximum number of inputs supported in a batch is ${BATCH_MAX_INPUTS}. Received ${inputs.length} inputs.`,
      ),
    };
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, body: parsed.data };
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  return { ok: false, answer: validationAnswer(`Invalid input JSON: ${problems.join('; ')}`) };
}

function upsertProperties(input: { id: string; properties: Record<string, unknown> }): Record<string, unknown> {
  return { ...input.properties, email: input.id };
}

function duplicateIds(ids: string[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const value of ids) (seen.has(value) ? duplicates : seen).add(value);
  return [...duplicates];
}

/** One error per failing input, its id (or email) in `context.ids`. */
function notFoundError(missing: string): BatchError {
  return {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
    context: { ids: [missing] },
    errors: [{ message: `No contact with id ${missing}`, context: { id: [missing] } }],
    httpStatus: 404,
  };
}

function invalidError(errors: PropertyError[], context: Record<string, string[]>): BatchError {
  return {
    status: 'error',
    category: 'VALIDATION_ERROR',
    message: describePropertyErrors(errors),
    context,
    errors,
    httpStatus: 400,
  };
}

function writeError(failure: WriteFailure, context: Record<string, string[]>): BatchError {
  switch (failure.kind) {
    case 'invalid':
      return invalidError(failure.errors, context);
    case 'conflict':
      return {
        status: 'error',
        category: 'CONFLICT',
        message: conflictMessage(failure.existingId),
        context: { ...context, existingId: [failure.existingId] },
        errors: [{ message: conflictMessage(failure.existingId), in: 'email' }],
        httpStatus: 409,
      };
    case 'not_found':
      return notFoundError(failure.id);
    default: {
      const unknownFailure: never = failure;
      throw new Error(`unhandled write failure ${JSON.stringify(unknownFailure)}`);
    }
  }
}

/**
 * Every input succeeded: the endpoint's status. Some failed: 207 with both. All failed: the failure's own
 * status (400 when they differ), as one error body naming every failing input.
 */
function batchAnswer(successStatus: number, results: unknown[], errors: BatchError[], startedAt: string): ApiAnswer {
  const completedAt = new Date().toISOString();
  if (errors.length === 0) return { status: successStatus, body: { status: 'COMPLETE', results, startedAt, completedAt } };
  const publicErrors = errors.map(({ httpStatus: _httpStatus, ...error }) => error);
  if (results.length > 0) {
    return {
      status: 207,
      body: { status: 'COMPLETE', results, numErrors: errors.length, errors: publicErrors, startedAt, completedAt },
    };
  }
  const [first] = errors as [BatchError, ...BatchError[]];
  const sameStatus = errors.every((error) => error.httpStatus === first.httpStatus);
  const context: Record<string, string[]> = {};
  for (const error of errors) {
    for (const [key, values] of Object.entries(error.context)) context[key] = [...(context[key] ?? []), ...values];
  }
  return errorAnswer(
    sameStatus ? first.httpStatus : 400,
    sameStatus ? first.category : 'VALIDATION_ERROR',
    errors.map((error) => error.message).join('; '),
    { context, errors: errors.flatMap((error) => error.errors) },
  );
}
