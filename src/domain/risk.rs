//! Risk detection in what a chat client writes: configurable phrase lists in Finnish,
//! Swedish and English that lift a chat up the queue.
//!
//! A phrase list is a triage aid, not an assessment: it can only raise a chat's place (a
//! worker's own assessment raises it further), because a missed risk costs far more than a
//! calm chat answered a little early. Matching is on word starts, so Finnish inflections
//! ("itsemurhaa", "lyönyt") match their stem without matching inside other words.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, Result};

key_enum!(
    /// How endangered the client seems; the queue takes the highest first.
    #[derive(Default)]
    RiskLevel {
        #[default]
        None = "none",
        Elevated = "elevated",
        High = "high",
        Imminent = "imminent",
    }
);

key_enum!(
    /// What kind of danger a phrase points to.
    RiskSignal {
        Suicide = "suicide",
        SelfHarm = "self_harm",
        Violence = "violence",
        ChildInDanger = "child_in_danger",
    }
);

impl RiskLevel {
    /// 0 for the most urgent; the queue sorts by this first.
    pub fn rank(self) -> i64 {
        match self {
            RiskLevel::Imminent => 0,
            RiskLevel::High => 1,
            RiskLevel::Elevated => 2,
            RiskLevel::None => 3,
        }
    }
}

impl PartialOrd for RiskLevel {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RiskLevel {
    /// `None < Elevated < High < Imminent`.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.rank().cmp(&self.rank())
    }
}

/// One configured group of phrases: any of them found means `signal` at `level`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseGroup {
    pub signal: RiskSignal,
    pub level: RiskLevel,
    pub phrases: Vec<String>,
}

/// What the phrase lists found in a text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Detection {
    pub level: Option<RiskLevel>,
    pub signals: Vec<RiskSignal>,
}

/// The compiled phrase lists.
#[derive(Debug, Clone)]
pub struct Lexicon {
    /// (normalised phrase, signal, level), longest phrases first.
    phrases: Vec<(String, RiskSignal, RiskLevel)>,
}

impl Lexicon {
    /// The lists from the settings, or the built-in ones when none are configured.
    pub fn new(groups: &[PhraseGroup]) -> Result<Lexicon> {
        let builtin;
        let groups = if groups.is_empty() {
            builtin = builtin_groups();
            &builtin
        } else {
            groups
        };
        let mut phrases = Vec::new();
        for group in groups {
            for phrase in &group.phrases {
                let normalised = normalise(phrase);
                if normalised.is_empty() {
                    return Err(AppError::Config(format!(
                        "an empty risk phrase in the {} list",
                        group.signal.as_str()
                    )));
                }
                phrases.push((normalised, group.signal, group.level));
            }
        }
        phrases.sort_by_key(|(p, _, _)| std::cmp::Reverse(p.len()));
        Ok(Lexicon { phrases })
    }

    /// The highest level and every kind of danger the text points to.
    pub fn detect(&self, text: &str) -> Detection {
        let text = format!(" {}", normalise(text));
        let mut detection = Detection::default();
        for (phrase, signal, level) in &self.phrases {
            let needle = format!(" {phrase}");
            if text.contains(&needle) {
                detection.level = detection.level.max(Some(*level));
                if !detection.signals.contains(signal) {
                    detection.signals.push(*signal);
                }
            }
        }
        detection.signals.sort_by_key(|s| s.as_str());
        detection
    }
}

/// Lower case, letters and digits only, single spaces: "Lyö  minua!" → "lyö minua".
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if c == '\'' || c == '’' {
            // "don't" and "don’t" are one word.
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

/// The lists the service starts with. Counties tune them in the settings
/// (`[[chat.risk_phrases]]`), which replace these entirely.
fn builtin_groups() -> Vec<PhraseGroup> {
    let group = |signal, level, phrases: &[&str]| PhraseGroup {
        signal,
        level,
        phrases: phrases.iter().map(|p| (*p).to_owned()).collect(),
    };
    use RiskLevel::*;
    use RiskSignal::*;
    vec![
        group(
            Suicide,
            Imminent,
            &[
                "tappaa itseni",
                "tapan itseni",
                "tappaisin itseni",
                "päättää päiväni",
                "päätän päiväni",
                "hyppään",
                "ta livet av mig",
                "tar livet av mig",
                "döda mig själv",
                "hoppa från",
                "kill myself",
                "end my life",
                "take my own life",
                "going to jump",
            ],
        ),
        group(
            Suicide,
            High,
            &[
                "itsemurha",
                "en halua elää",
                "haluan kuolla",
                "haluaisin kuolla",
                "självmord",
                "vill inte leva",
                "vill dö",
                "suicide",
                "suicidal",
                "want to die",
                "dont want to live",
            ],
        ),
        group(
            SelfHarm,
            High,
            &[
                "viillän",
                "viiltelen",
                "viiltely",
                "satutan itseäni",
                "vahingoitan itseäni",
                "skär mig",
                "skadar mig själv",
                "skada mig själv",
                "cut myself",
                "cutting myself",
                "hurt myself",
                "self harm",
            ],
        ),
        group(
            Violence,
            Imminent,
            &[
                "uhkaa tappaa",
                "uhkasi tappaa",
                "tappaa minut",
                "hotar att döda",
                "dödar mig",
                "threatens to kill",
                "going to kill me",
                "will kill me",
            ],
        ),
        group(
            Violence,
            High,
            &[
                "lyö",
                "lyönyt",
                "hakkaa",
                "hakkasi",
                "kuristi",
                "väkivalta",
                "väkivaltaa",
                "slår mig",
                "slog mig",
                "misshandlar",
                "våld",
                "hits me",
                "hit me",
                "beats me",
                "beat me",
                "strangled",
                "violent",
            ],
        ),
        group(
            ChildInDanger,
            High,
            &[
                "lapsi vaarassa",
                "lapset vaarassa",
                "lasta lyödään",
                "lyö lasta",
                "lyö lapsia",
                "lapsi on yksin",
                "barnet är i fara",
                "barnen är i fara",
                "slår barnet",
                "slår barnen",
                "child is in danger",
                "children are in danger",
                "hits my child",
                "hurting my child",
                "hits the kids",
            ],
        ),
        group(
            Suicide,
            Elevated,
            &[
                "en jaksa",
                "toivoton",
                "orkar inte",
                "hopplös",
                "cant go on",
                "hopeless",
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        Lexicon::new(&[]).unwrap()
    }

    #[test]
    fn phrases_in_each_language_are_found() {
        let l = lexicon();
        for (text, level, signal) in [
            (
                "Ajattelen itsemurhaa joka päivä",
                RiskLevel::High,
                RiskSignal::Suicide,
            ),
            (
                "aion tappaa itseni tänä yönä",
                RiskLevel::Imminent,
                RiskSignal::Suicide,
            ),
            ("Mieheni LYÖ minua", RiskLevel::High, RiskSignal::Violence),
            ("hän on lyönyt minua", RiskLevel::High, RiskSignal::Violence),
            (
                "Jag tänker på självmord",
                RiskLevel::High,
                RiskSignal::Suicide,
            ),
            (
                "I want to kill myself",
                RiskLevel::Imminent,
                RiskSignal::Suicide,
            ),
            ("I don't want to live", RiskLevel::High, RiskSignal::Suicide),
            ("I don’t want to live", RiskLevel::High, RiskSignal::Suicide),
            (
                "he threatens to kill me",
                RiskLevel::Imminent,
                RiskSignal::Violence,
            ),
            (
                "pappa slår barnet",
                RiskLevel::High,
                RiskSignal::ChildInDanger,
            ),
            ("en jaksa enää", RiskLevel::Elevated, RiskSignal::Suicide),
        ] {
            let found = l.detect(text);
            assert_eq!(found.level, Some(level), "{text}");
            assert!(found.signals.contains(&signal), "{text}: {found:?}");
        }
    }

    #[test]
    fn calm_text_and_words_merely_containing_a_phrase_are_not_flagged() {
        let l = lexicon();
        for text in [
            "Hei, kysyisin toimeentulotuesta",
            "Hur gör jag en ansökan?",
            "I need help with my housing application",
            // "lyö" inside a word, not at its start.
            "kalyöljy",
            "",
        ] {
            assert_eq!(l.detect(text), Detection::default(), "{text}");
        }
    }

    #[test]
    fn the_highest_level_wins_and_every_signal_is_named() {
        let found = lexicon().detect("Hän lyö minua ja haluan kuolla, tapan itseni");
        assert_eq!(found.level, Some(RiskLevel::Imminent));
        assert_eq!(
            found.signals,
            vec![RiskSignal::Suicide, RiskSignal::Violence]
        );
    }

    #[test]
    fn configured_lists_replace_the_builtin_ones() {
        let l = Lexicon::new(&[PhraseGroup {
            signal: RiskSignal::Violence,
            level: RiskLevel::Elevated,
            phrases: vec!["Riitaa".into()],
        }])
        .unwrap();
        assert_eq!(
            l.detect("kotona on riitaa").level,
            Some(RiskLevel::Elevated)
        );
        assert_eq!(l.detect("itsemurha").level, None);
        assert!(
            Lexicon::new(&[PhraseGroup {
                signal: RiskSignal::Suicide,
                level: RiskLevel::High,
                phrases: vec!["  !! ".into()],
            }])
            .is_err()
        );
    }

    #[test]
    fn levels_order_from_calm_to_imminent() {
        assert!(RiskLevel::None < RiskLevel::Elevated);
        assert!(RiskLevel::High < RiskLevel::Imminent);
        assert_eq!(RiskLevel::Imminent.rank(), 0);
    }
}
