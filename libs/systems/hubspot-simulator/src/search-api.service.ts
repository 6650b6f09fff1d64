import type { ApiAnswer } from './api-answer.util';
import { validationAnswer } from './api-answer.util';
import type { ApiRequest, ContactsApiContext } from './api-request.interface';
import {
  SEARCH_MAX_RESULTS,
  SearchRequestSchema,
  compareForSearch,
  matchesSearch,
  searchRequestProblems,
} from './contact-search.util';
import { renderContact } from './contact-representation.util';

/**
 * POST /search over the search index (which lags writes). `after` is an offset; a page may end at the
 * 10,000th result and still offer a next page, which then fails, as HubSpot's does.
 */
export class SearchApi {
  constructor(private readonly context: ContactsApiContext) {}

  search(request: ApiRequest): ApiAnswer {
    const parsed = SearchRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
      return validationAnswer(`Invalid search request: ${problems.join('; ')}`);
    }
    const search = parsed.data;
    const problems = searchRequestProblems(search);
    if (problems.length > 0) return validationAnswer(`Invalid search request: ${problems.join('; ')}`);
    if (search.after >= SEARCH_MAX_RESULTS) {
      return validationAnswer(
        `Paging past the first ${SEARCH_MAX_RESULTS} results of a search is not supported ` +
          `(after=${search.after}); narrow the query instead.`,
      );
    }
    const matches = this.context.searchIndex
      .contacts(request.receivedAt)
      .filter((contact) => matchesSearch(contact, search))
      .sort(compareForSearch(search));
    const end = Math.min(search.after + search.limit, SEARCH_MAX_RESULTS);
    const results = matches
      .slice(search.after, end)
      .map((contact) => renderContact(contact, this.context.catalog, search.properties ?? null));
    const next = end < matches.length ? { paging: { next: { after: String(end) } } } : {};
    return { status: 200, body: { total: matches.length, results, ...next } };
  }
}
