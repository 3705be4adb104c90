/** An exFAT label from a content id: up to 11 of its letters and digits, upper-case. */
export function labelFor(contentId: string): string {
  return (
    contentId
      .toUpperCase()
      .replace(/[^A-Z0-9_-]/g, '')
      .slice(0, 11) || 'DISKKIOSK'
  );
}
