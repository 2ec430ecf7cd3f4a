import { z } from 'zod';
import { defineTool } from '../tool.js';

const Input = z.strictObject({
  timezone: z.string().min(1).max(64).optional().describe('IANA time zone, e.g. Europe/Berlin; default UTC'),
});

/** `2026-11-25T04:05:06.789+01:00`: ISO 8601 local time with its offset. */
export function isoInZone(date: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const offset = (parts.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  const ms = String(date.getUTCMilliseconds()).padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${ms}${offset === '+00:00' ? 'Z' : offset}`;
}

export function createCurrentTimeTool(now: () => Date = () => new Date()) {
  return defineTool({
    name: 'current_time',
    description: 'The current date and time as ISO 8601, in an IANA time zone (default UTC).',
    input: Input,
    run: ({ timezone = 'UTC' }) => {
      try {
        return { content: `${isoInZone(now(), timezone)} (${timezone})` };
      } catch {
        return { content: `unknown time zone: ${timezone} (use an IANA name such as Europe/Berlin)`, isError: true };
      }
    },
  });
}
