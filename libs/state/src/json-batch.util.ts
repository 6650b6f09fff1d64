/**
 * A batch's JSON values (entity states, log details) go to the server as one text parameter, split
 * there by `splitJsonValues`, beside plain arrays for the other columns. Read out of one JSON payload
 * with json_to_recordset, PostgreSQL parsed every value twice, the payload and then the value: that
 * was half the cost of saving entity states. JSON.stringify escapes every control character, so the
 * record separator U+001E never occurs inside a value.
 */
export function joinJsonValues(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join('\u001e');
}

/** SQL for the values `joinJsonValues` put in parameter `$n`, as a text array in their order. */
export function splitJsonValues(parameter: number): string {
  return `string_to_array($${parameter}, E'\\x1e')`;
}
