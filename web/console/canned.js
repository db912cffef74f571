// Ready replies for the chat windows, in the chat's own language (not the console's): the
// worker picks one and it is inserted into the reply box to be edited or sent.

export const CANNED_KEYS = ['greeting', 'listening', 'safety', 'emergency', 'more', 'closing'];

const TEXTS = {
  fi: {
    greeting: 'Hei, olet yhteydessä sosiaali- ja kriisipäivystykseen. Olen päivystäjä ja luen viestejäsi nyt.',
    listening: 'Olen tässä ja kuuntelen sinua.',
    safety: 'Oletko juuri nyt turvassa?',
    emergency: 'Jos olet välittömässä vaarassa, soita hätänumeroon 112.',
    more: 'Voisitko kertoa lisää?',
    closing: 'Kiitos, että otit yhteyttä. Voit kirjoittaa tai soittaa meille uudelleen milloin tahansa, vuorokauden ympäri.',
  },
  sv: {
    greeting: 'Hej, du har kontakt med social- och krisjouren. Jag är jourhavande och läser dina meddelanden nu.',
    listening: 'Jag är här och lyssnar på dig.',
    safety: 'Är du i säkerhet just nu?',
    emergency: 'Om du är i omedelbar fara, ring nödnumret 112.',
    more: 'Kan du berätta mer?',
    closing: 'Tack för att du tog kontakt. Du kan skriva eller ringa till oss igen när som helst, dygnet runt.',
  },
  en: {
    greeting: 'Hello, you have reached the social and crisis on-call service. I am the worker on call and I am reading your messages now.',
    listening: 'I am here to listen.',
    safety: 'Are you safe right now?',
    emergency: 'If you are in immediate danger, call the emergency number 112.',
    more: 'Can you tell me more?',
    closing: 'Thank you for getting in touch. You can write or call us again at any time, day or night.',
  },
};

/** The ready reply `key` in `language` (Finnish when the language is unknown). */
export function cannedText(language, key) {
  return (TEXTS[language] || TEXTS.fi)[key] || '';
}
