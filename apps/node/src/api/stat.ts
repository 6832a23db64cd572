import type { RegionInfo } from '../daemon/ports.js';

/** The gauges of the original's `stat` file, in its order (they follow the counters). */
export const GAUGE_ORDER = ['region_size', 'region_page_size', 'page_count', 'page_count_limit', 'full', 'active_list_size', 'inactive_list_size'] as const;

/**
 * A region's `stat` in the original's order: the vm counters, then the dvs counters, then the
 * gauges region_size ... inactive_list_size, then any other gauges. Names that appear twice keep
 * their first value.
 */
export function orderedStat(info: RegionInfo): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const seen = new Set<string>();
  const push = (name: string, value: number | undefined): void => {
    if (value === undefined || seen.has(name)) return;
    seen.add(name);
    out.push([name, value]);
  };
  for (const [name, value] of Object.entries(info.counters)) push(name, value);
  for (const [name, value] of Object.entries(info.dvs)) push(name, value);
  for (const name of GAUGE_ORDER) push(name, info.gauges[name]);
  for (const [name, value] of Object.entries(info.gauges)) push(name, value);
  return out;
}

/** The `stat` as the original's debugfs file prints it: one `name value` line each. */
export function statText(info: RegionInfo): string {
  return orderedStat(info).map(([name, value]) => `${name} ${value}\n`).join('');
}
