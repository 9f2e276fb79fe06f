/** How every adapter turns a search's matches into a page (JobStore.searchJobs). */
import type { JobRecord, JobSearchPage, JobSearchPosition } from './types.ts';

/**
 * The page of `matches` (up to `limit + 1` records, newest first). A record beyond `limit` proves
 * that another page follows, which starts after the page's last record; otherwise the next page
 * starts after the last record the scan examined (`lastExamined`, null when it examined all that
 * was left, absent when the scan had no limit).
 */
export async function searchPage(
  matches: JobRecord[],
  limit: number,
  lastExamined?: () => Promise<JobSearchPosition | null>,
): Promise<JobSearchPage> {
  if (matches.length > limit) {
    const jobs = matches.slice(0, limit);
    const last = jobs[jobs.length - 1]!;
    return { jobs, resumeAfter: { created_at: last.created_at, id: last.id } };
  }
  return { jobs: matches, resumeAfter: lastExamined ? await lastExamined() : null };
}
