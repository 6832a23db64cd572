// Preloaded (--import) into each memory node `kv bench` starts: the node exits when the process
// that started it is gone (killed, crashed), so a dead bench never leaves donors behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
