/**
 * The few pages the service renders itself: answers to a browser that came back from the identity
 * provider and cannot be signed in. Plain HTML, no script, every value escaped, in the reader's
 * language (English, Vietnamese or Polish, as the web app).
 */

export type RefusalReason =
  | 'incomplete'
  | 'used'
  | 'tooSlow'
  | 'otherBrowser'
  | 'providerRefused'
  | 'unverifiable'
  | 'noClaim'
  | 'unverifiedEmail'
  | 'ambiguous'
  | 'deactivated'
  | 'unknown'
  | 'unreachable'
  | 'tooMany';

type Texts = Record<RefusalReason, { title: string; detail: string }> & { again: string; back: string };

const en: Texts = {
  incomplete: { title: 'The answer from your identity provider is incomplete', detail: 'It carried no state.' },
  used: { title: 'This sign-in cannot be completed', detail: 'It was already completed or never started here.' },
  tooSlow: { title: 'This sign-in took too long', detail: 'Signing in must be finished within {minutes} minutes.' },
  otherBrowser: { title: 'This sign-in was started in another browser', detail: 'Start it again from this browser.' },
  providerRefused: { title: 'Your identity provider did not sign you in', detail: 'It answered: {answer}.' },
  unverifiable: {
    title: 'The answer from your identity provider could not be verified',
    detail: 'Nothing was signed in.',
  },
  noClaim: {
    title: 'Your identity provider did not say who you are',
    detail: `Its answer has no "{claim}" claim, which Leeway matches to its users. An administrator can fix this in the provider's settings.`,
  },
  unverifiedEmail: {
    title: 'Your email address is not verified',
    detail:
      'Your identity provider does not say this address is verified, so Leeway cannot match it to a user. An administrator can match people by their sub claim instead (LEEWAY_OIDC_CLAIM=sub).',
  },
  ambiguous: {
    title: 'Leeway cannot tell which user you are',
    detail:
      'Two Leeway users have {value} as their external reference, in different cases. Ask a Leeway admin to fix one of them.',
  },
  deactivated: {
    title: 'Your Leeway access has ended',
    detail:
      'You signed in as {value}, and your identity provider knows you, but your Leeway user is deactivated. If this is a mistake, ask a Leeway admin to reactivate it.',
  },
  unknown: {
    title: 'Leeway does not know you yet',
    detail:
      'You signed in as {value}, but no Leeway user has this as their external reference. Ask a Leeway admin to add you, or to set your external reference to {value}.',
  },
  unreachable: {
    title: 'Your identity provider cannot be reached',
    detail: 'Leeway could not reach it just now. Try again in a minute; if it persists, tell your administrator.',
  },
  tooMany: {
    title: 'Too many sign-ins were started from here',
    detail: 'Wait {seconds} seconds, then try again.',
  },
  again: 'Nothing was signed in. Go back to Leeway and sign in again.',
  back: 'Back to Leeway',
};

const vi: Texts = {
  incomplete: { title: 'Câu trả lời từ nhà cung cấp danh tính không đầy đủ', detail: 'Nó không mang theo state.' },
  used: { title: 'Không thể hoàn tất lần đăng nhập này', detail: 'Nó đã được hoàn tất, hoặc chưa từng bắt đầu ở đây.' },
  tooSlow: { title: 'Lần đăng nhập này quá lâu', detail: 'Phải hoàn tất đăng nhập trong vòng {minutes} phút.' },
  otherBrowser: {
    title: 'Lần đăng nhập này bắt đầu ở một trình duyệt khác',
    detail: 'Hãy bắt đầu lại từ trình duyệt này.',
  },
  providerRefused: { title: 'Nhà cung cấp danh tính không đăng nhập cho bạn', detail: 'Họ trả lời: {answer}.' },
  unverifiable: {
    title: 'Không thể xác minh câu trả lời từ nhà cung cấp danh tính',
    detail: 'Chưa có ai được đăng nhập.',
  },
  noClaim: {
    title: 'Nhà cung cấp danh tính không cho biết bạn là ai',
    detail:
      'Câu trả lời không có claim "{claim}", thứ Leeway dùng để đối chiếu người dùng. Quản trị viên có thể sửa điều này trong cài đặt của nhà cung cấp.',
  },
  unverifiedEmail: {
    title: 'Địa chỉ email của bạn chưa được xác minh',
    detail:
      'Nhà cung cấp danh tính không cho biết địa chỉ này đã được xác minh, nên Leeway không thể đối chiếu nó với người dùng nào. Quản trị viên có thể đối chiếu theo claim sub thay thế (LEEWAY_OIDC_CLAIM=sub).',
  },
  ambiguous: {
    title: 'Leeway không xác định được bạn là người dùng nào',
    detail:
      'Hai người dùng Leeway có {value} làm mã tham chiếu ngoài, khác nhau ở chữ hoa chữ thường. Hãy đề nghị quản trị viên Leeway sửa một trong hai.',
  },
  deactivated: {
    title: 'Quyền truy cập Leeway của bạn đã kết thúc',
    detail:
      'Bạn đã đăng nhập với tên {value} và nhà cung cấp danh tính biết bạn, nhưng người dùng Leeway của bạn đã bị vô hiệu hóa. Nếu đây là nhầm lẫn, hãy đề nghị quản trị viên Leeway kích hoạt lại.',
  },
  unknown: {
    title: 'Leeway chưa biết bạn',
    detail:
      'Bạn đã đăng nhập với tên {value}, nhưng chưa có người dùng Leeway nào có mã tham chiếu ngoài này. Hãy đề nghị quản trị viên Leeway thêm bạn, hoặc đặt mã tham chiếu ngoài của bạn là {value}.',
  },
  unreachable: {
    title: 'Không thể liên lạc với nhà cung cấp danh tính',
    detail: 'Leeway chưa liên lạc được với họ. Hãy thử lại sau một phút; nếu vẫn vậy, hãy báo quản trị viên.',
  },
  tooMany: {
    title: 'Có quá nhiều lần đăng nhập được bắt đầu từ đây',
    detail: 'Hãy đợi {seconds} giây rồi thử lại.',
  },
  again: 'Chưa có ai được đăng nhập. Hãy quay lại Leeway và đăng nhập lại.',
  back: 'Quay lại Leeway',
};

const pl: Texts = {
  incomplete: { title: 'Odpowiedź dostawcy tożsamości jest niepełna', detail: 'Nie zawierała parametru state.' },
  used: {
    title: 'Nie można dokończyć tego logowania',
    detail: 'Zostało już dokończone albo nigdy się tu nie zaczęło.',
  },
  tooSlow: { title: 'To logowanie trwało zbyt długo', detail: 'Logowanie trzeba dokończyć w ciągu {minutes} minut.' },
  otherBrowser: {
    title: 'To logowanie rozpoczęto w innej przeglądarce',
    detail: 'Zacznij je ponownie w tej przeglądarce.',
  },
  providerRefused: { title: 'Dostawca tożsamości Cię nie zalogował', detail: 'Odpowiedział: {answer}.' },
  unverifiable: {
    title: 'Nie udało się zweryfikować odpowiedzi dostawcy tożsamości',
    detail: 'Nikt nie został zalogowany.',
  },
  noClaim: {
    title: 'Dostawca tożsamości nie podał, kim jesteś',
    detail:
      'Jego odpowiedź nie zawiera atrybutu "{claim}", po którym Leeway rozpoznaje użytkowników. Administrator może to poprawić w ustawieniach dostawcy.',
  },
  unverifiedEmail: {
    title: 'Twój adres e-mail nie jest zweryfikowany',
    detail:
      'Dostawca tożsamości nie potwierdza, że ten adres jest zweryfikowany, więc Leeway nie może dopasować go do użytkownika. Administrator może zamiast tego dopasowywać osoby po atrybucie sub (LEEWAY_OIDC_CLAIM=sub).',
  },
  ambiguous: {
    title: 'Leeway nie wie, którym użytkownikiem jesteś',
    detail:
      'Dwóch użytkowników Leeway ma {value} jako identyfikator zewnętrzny, różniący się wielkością liter. Poproś administratora Leeway o poprawienie jednego z nich.',
  },
  deactivated: {
    title: 'Twój dostęp do Leeway wygasł',
    detail:
      'Zalogowano Cię jako {value} i dostawca tożsamości Cię zna, ale Twój użytkownik w Leeway jest dezaktywowany. Jeśli to pomyłka, poproś administratora Leeway o ponowną aktywację.',
  },
  unknown: {
    title: 'Leeway jeszcze Cię nie zna',
    detail:
      'Zalogowano Cię jako {value}, ale żaden użytkownik Leeway nie ma takiego identyfikatora zewnętrznego. Poproś administratora Leeway o dodanie Cię albo o ustawienie Twojego identyfikatora zewnętrznego na {value}.',
  },
  unreachable: {
    title: 'Nie można połączyć się z dostawcą tożsamości',
    detail:
      'Leeway nie mógł się z nim teraz połączyć. Spróbuj ponownie za minutę; jeśli problem nie zniknie, powiadom administratora.',
  },
  tooMany: {
    title: 'Stąd rozpoczęto zbyt wiele logowań',
    detail: 'Spróbuj ponownie za {seconds} s.',
  },
  again: 'Nikt nie został zalogowany. Wróć do Leeway i zaloguj się ponownie.',
  back: 'Wróć do Leeway',
};

export const REFUSAL_TEXTS = { en, vi, pl };
export type PageLanguage = keyof typeof REFUSAL_TEXTS;

/** The first of the reader's languages (Accept-Language) that the pages speak; English otherwise. */
export function pageLanguage(acceptLanguage: string | undefined): PageLanguage {
  const tags = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())?.[1]).find(Boolean);
      return { base: tag.toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q) };
    })
    .filter((t) => t.q > 0)
    .sort((a, b) => b.q - a.q);
  return (tags.find((t) => t.base in REFUSAL_TEXTS)?.base as PageLanguage | undefined) ?? 'en';
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A refusal page: its title, what happened, and (for an attempt to start over) what to do. */
export function refusalPage(
  language: PageLanguage,
  reason: RefusalReason,
  vars: Record<string, string | number>,
  startOver: boolean,
): string {
  const texts = REFUSAL_TEXTS[language];
  const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? ''));
  const title = texts[reason].title;
  const paragraphs = [fill(texts[reason].detail), ...(startOver ? [texts.again] : [])];
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Leeway</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; }
a { color: #0b57d0; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
<p><a href="/">${escapeHtml(texts.back)}</a></p>
</main>
</body>
</html>
`;
}
