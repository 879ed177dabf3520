// Message text: Slack's markup for mentions (`<@U1>`, `<!here>`, `<!channel>`,
// `<!subteam^G1>`), links (`<https://x|label>`), escaped for the page.

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export interface Names {
  user(id: string): string;
  channel(id: string): string;
  me: string;
}

export function renderText(text: string, names: Names): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(/<([^<>\s][^<>]*)>/g)) {
    html += escapeHtml(text.slice(last, match.index));
    last = (match.index ?? 0) + match[0].length;
    const [target, label] = match[1].split("|", 2);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const mine = id === names.me ? " mention-me" : "";
      html += `<span class="mention${mine}" data-user-id="${escapeHtml(id)}">@${escapeHtml(label ?? names.user(id))}</span>`;
    } else if (target === "!here" || target === "!channel" || target === "!everyone") {
      html += `<span class="mention mention-me">@${target.slice(1)}</span>`;
    } else if (target.startsWith("!subteam^")) {
      html += `<span class="mention">@${escapeHtml(label ?? "group")}</span>`;
    } else if (target.startsWith("#")) {
      html += `<span class="channel-ref">#${escapeHtml(label ?? names.channel(target.slice(1)))}</span>`;
    } else if (/^https?:\/\//.test(target)) {
      html += `<a href="${escapeHtml(target)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label ?? target)}</a>`;
    } else {
      html += escapeHtml(match[0]);
    }
  }
  return html + escapeHtml(text.slice(last));
}

// Whether a message's text mentions this user (directly or the whole channel).
export function mentions(text: string, userId: string): boolean {
  return text.includes(`<@${userId}>`) || /<!(here|channel|everyone)>/.test(text);
}

// Search fragments come with <em> around the matches: escape the rest, keep those.
export function renderHighlight(fragment: string): string {
  return escapeHtml(fragment).replace(/&lt;em&gt;/g, "<mark>").replace(/&lt;\/em&gt;/g, "</mark>");
}

// What a person types into markup: `@name` of a member becomes `<@id>`, `@here` `<!here>`.
export function toMarkup(text: string, lookup: (handle: string) => string | undefined): string {
  return text.replace(/(^|[\s(])@([\w.-]+)/g, (whole, before: string, handle: string) => {
    const lower = handle.toLowerCase();
    if (lower === "here" || lower === "channel" || lower === "everyone") return `${before}<!${lower}>`;
    const id = lookup(lower);
    return id ? `${before}<@${id}>` : whole;
  });
}

const EMOJI: Record<string, string> = {
  "+1": "👍",
  thumbsup: "👍",
  "-1": "👎",
  heart: "❤️",
  joy: "😂",
  tada: "🎉",
  eyes: "👀",
  white_check_mark: "✅",
  rocket: "🚀",
  smile: "😄",
};

export const QUICK_REACTIONS = ["+1", "heart", "joy", "tada", "eyes"];

export function emoji(name: string): string {
  return EMOJI[name] ?? `:${name}:`;
}
