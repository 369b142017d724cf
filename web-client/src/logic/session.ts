// Whether two answers describe the same account: a refresh answers an equal user in a new object, and a new
// display name (issue 15) changes the user but not who is signed in — neither may rebuild the chat.
import type { User } from '../api/types';

export function sameAccount(a: User, b: User): boolean {
  return a.id === b.id;
}
