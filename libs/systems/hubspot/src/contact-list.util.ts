import type { HubSpotClient } from './hubspot-client.service';
import type { HubSpotContact } from './hubspot-response.schema';

export interface ContactListPage {
  contacts: HubSpotContact[];
  /** Where the next page starts: store it once this page is processed, to resume there. Null when done. */
  after: string | null;
}

export interface ContactListOptions {
  /** A stored `after` to resume from; absent to start at the beginning. */
  after?: string | null;
  properties: readonly string[];
}

/** Every active contact, a page (up to 100) at a time, for a resumable backfill. */
export function listAllContacts(client: Pick<HubSpotClient, 'listContacts'>, options: ContactListOptions): AsyncGenerator<ContactListPage> {
  return listPages(client, options, false);
}

/** Every archived contact: how deletions are found when their webhooks were missed. */
export function listArchivedContacts(client: Pick<HubSpotClient, 'listContacts'>, options: ContactListOptions): AsyncGenerator<ContactListPage> {
  return listPages(client, options, true);
}

async function* listPages(
  client: Pick<HubSpotClient, 'listContacts'>,
  { after: start, properties }: ContactListOptions,
  archived: boolean,
): AsyncGenerator<ContactListPage> {
  let after = start ?? null;
  do {
    const page = await client.listContacts({ after, properties, archived });
    after = page.after;
    yield { contacts: page.results, after };
  } while (after !== null);
}
