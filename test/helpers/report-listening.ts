// Loaded (--import) into a step's file that runFile starts: it tells the test
// over the IPC channel when a server of that process starts listening. A
// probe of the port could not tell: under a full test run another test's
// server may take that port the moment it is free.
import { Server } from 'node:net';

const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  this.once('listening', () => process.send?.('listening'));
  return (listen as (...a: unknown[]) => Server).apply(this, args);
} as typeof Server.prototype.listen;
