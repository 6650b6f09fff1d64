import { z } from 'zod';
import {
  type ApiAnswer,
  conflictMessage,
  errorAnswer,
  notFoundAnswer,
  propertyErrorsAnswer,
  validationAnswer,
} from './api-answer.util';
import { type ApiRequest, type ContactsApiContext, findByIdProperty, isSupportedIdProperty } from './api-request.interface';
import { renderContact, requestedProperties } from './contact-representation.util';
import type { StoredContact, WriteFailure } from './contact-store.service';

const LIST_MAX_LIMIT = 100;

const WriteBodySchema = z.object({ properties: z.record(z.string(), z.unknown()) });

/** The single-object endpoints: list, read, create, update, archive. */
export class ContactsApi {
  constructor(private readonly context: ContactsApiContext) {}

  list(request: ApiRequest): ApiAnswer {
    const limitParam = request.query.get('limit') ?? '10';
    const limit = Number(limitParam);
    if (!/^\d+$/.test(limitParam) || limit < 1 || limit > LIST_MAX_LIMIT) {
      return validationAnswer(`limit must be an integer from 1 to ${LIST_MAX_LIMIT}, got ${limitParam}`);
    }
    const after = request.query.get('after');
    if (after !== null && !/^\d+$/.test(after)) return validationAnswer(`after is not a valid paging cursor: ${after}`);
    const archived = request.query.get('archived') === 'true';
    const properties = requestedProperties(request.query);
    const candidates = this.context.store
      .list(archived)
      .filter((contact) => after === null || Number(contact.id) > Number(after));
    const page = candidates.slice(0, limit);
    const results = page.map((contact) => renderContact(contact, this.context.catalog, properties));
    const last = page[page.length - 1];
    if (candidates.length <= limit || !last) return { status: 200, body: { results } };
    const link = new URL('/crm/v3/objects/contacts', request.baseUrl);
    for (const [name, value] of request.query) if (name !== 'after') link.searchParams.append(name, value);
    link.searchParams.set('after', last.id);
    return { status: 200, body: { results, paging: { next: { after: last.id, link: link.toString() } } } };
  }

  /** `archived=true` reads only archived contacts, as HubSpot does. */
  read(request: ApiRequest): ApiAnswer {
    const id = request.params.id ?? '';
    const idProperty = request.query.get('idProperty') ?? undefined;
    if (!isSupportedIdProperty(idProperty)) return validationAnswer(`${String(idProperty)} is not a unique property`);
    const archived = request.query.get('archived') === 'true';
    const contact = archived ? this.archivedContact(id) : findByIdProperty(this.context.store, id, idProperty);
    if (!contact) return notFoundAnswer(id);
    const withHistory = requestedProperties(request.query, 'propertiesWithHistory') ?? [];
    return { status: 200, body: renderContact(contact, this.context.catalog, requestedProperties(request.query), withHistory) };
  }

  create(request: ApiRequest): ApiAnswer {
    const body = WriteBodySchema.safeParse(request.body);
    if (!body.success) return validationAnswer('Invalid input JSON: expected {"properties":{...}}');
    const written = this.context.store.create(body.data.properties, 'INTEGRATION');
    if (!written.ok) return failureAnswer(written.failure);
    return { status: 201, body: this.renderWritten(written.contact, body.data.properties) };
  }

  update(request: ApiRequest): ApiAnswer {
    const id = request.params.id ?? '';
    const idProperty = request.query.get('idProperty') ?? undefined;
    if (!isSupportedIdProperty(idProperty)) return validationAnswer(`${String(idProperty)} is not a unique property`);
    const body = WriteBodySchema.safeParse(request.body);
    if (!body.success) return validationAnswer('Invalid input JSON: expected {"properties":{...}}');
    const contact = findByIdProperty(this.context.store, id, idProperty);
    if (!contact) return notFoundAnswer(id);
    const written = this.context.store.update(contact.id, body.data.properties, 'INTEGRATION');
    if (!written.ok) return failureAnswer(written.failure);
    return { status: 200, body: this.renderWritten(written.contact, body.data.properties) };
  }

  /** 204 whether or not the contact exists or is already archived. */
  archive(request: ApiRequest): ApiAnswer {
    this.context.store.archive(request.params.id ?? '', 'INTEGRATION');
    return { status: 204 };
  }

  private archivedContact(id: string): StoredContact | undefined {
    const contact = this.context.store.get(id);
    return contact?.archived ? contact : undefined;
  }

  /** A write's answer shows the properties it wrote, besides the ones always shown. */
  private renderWritten(contact: StoredContact, written: Record<string, unknown>): unknown {
    return renderContact(contact, this.context.catalog, Object.keys(written));
  }
}

function failureAnswer(failure: WriteFailure): ApiAnswer {
  switch (failure.kind) {
    case 'invalid':
      return propertyErrorsAnswer(failure.errors);
    case 'conflict':
      return errorAnswer(409, 'CONFLICT', conflictMessage(failure.existingId));
    case 'not_found':
      return notFoundAnswer(failure.id);
    default: {
      const unknownFailure: never = failure;
      throw new Error(`unhandled write failure ${JSON.stringify(unknownFailure)}`);
    }
  }
}
