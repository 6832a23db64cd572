// The one fact about the host process that a run's identity records: the Node major version
// (golden digests are pinned per Node major; simulation.md §9). Kept in adapters, the only place
// where the determinism rule allows reading the process.

/** Major version of the running Node.js (e.g. 20). */
export function nodeMajorVersion(): number {
  return Number(process.versions.node.split('.')[0]);
}
