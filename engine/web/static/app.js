// chatd's browser client. It speaks the Qt client's protocol: the same handshake query,
// the same actions, chat lines as {"text","toUserId"} with no action key.
import { setupAccount } from './account.js';
import { plugSocket } from './dispatch.js';
import { setupFiles } from './files.js';
import { setupReadMarks } from './readmarks.js';
import { setupLogin } from './login.js';
import { wire } from './wiring.js';

plugSocket();
setupLogin();
wire();
setupAccount();
setupFiles();
setupReadMarks();
