// Preloaded (--import) into each memory node startMemoryNodes starts: the node exits when the
// process that started it is gone (killed, crashed), so a dead run never leaves donors behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
