//! Every UI string exists in Finnish, Swedish and English, and every key the pages use is
//! defined.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use paivystys::domain::entry::{Category, Channel, Status, Urgency};

/// The staff console's catalogs (`web/i18n/<lang>.json`, used under `web/console/`) and the
/// public pages' own, smaller ones (`web/i18n/public/<lang>.json`, used under `web/public/`),
/// so an anonymous visitor never downloads the staff console's text.
const CATALOGS: [(&str, &str); 2] = [
    ("web/i18n", "web/console"),
    ("web/i18n/public", "web/public"),
];

fn messages(lang: &str) -> BTreeMap<String, String> {
    catalog("web/i18n", lang)
}

fn catalog(dir: &str, lang: &str) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("{dir}/{lang}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?} is not a flat string map: {e}"))
}

/// Keys named literally in the pages under `pages`: `data-i18n="key"`,
/// `data-i18n-…="key"` and `t('key')` / `t("key")`.
fn keys_used(pages: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(pages);
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "html" | "js" | "mjs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (open, close) in [("data-i18n=\"", '"'), ("t('", '\''), ("t(\"", '"')] {
                for (i, _) in text.match_indices(open) {
                    // `t(` must be the whole identifier, not the end of `set(`.
                    let before = text[..i].chars().next_back();
                    if open.starts_with('t')
                        && before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    {
                        continue;
                    }
                    let rest = &text[i + open.len()..];
                    if let Some(end) = rest.find(close) {
                        let key = &rest[..end];
                        // `key` is the placeholder name used in comments.
                        if !key.is_empty() && !key.contains(['$', '+', ' ']) && key != "key" {
                            used.insert(key.to_owned());
                        }
                    }
                }
            }
            for (i, _) in text.match_indices("data-i18n-") {
                // data-i18n-attr="attribute:key;attribute:key"
                let rest = &text[i + "data-i18n-".len()..];
                let name_len = rest
                    .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                    .unwrap_or(0);
                let Some(value) = rest[name_len..].strip_prefix("=\"") else {
                    continue;
                };
                let Some(end) = value.find('"') else { continue };
                for pair in value[..end].split(';') {
                    let key = pair.rsplit(':').next().unwrap_or(pair).trim();
                    if !key.is_empty() && !key.contains([' ', '$']) && key != "key" {
                        used.insert(key.to_owned());
                    }
                }
            }
        }
    }
    used
}

#[test]
fn all_three_languages_have_the_same_keys_and_no_empty_text() {
    for (dir, _) in CATALOGS {
        let fi = catalog(dir, "fi");
        assert!(fi.len() > 20, "{dir} has more text than {}", fi.len());
        for lang in ["sv", "en"] {
            let other = catalog(dir, lang);
            let missing: Vec<_> = fi.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !fi.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{dir}: {lang} lacks {missing:?}");
            assert!(
                extra.is_empty(),
                "{dir}: {lang} has keys fi lacks: {extra:?}"
            );
            for (key, text) in &other {
                assert!(!text.trim().is_empty(), "{dir}: {lang}.{key} is empty");
            }
        }
        for (key, text) in &fi {
            assert!(!text.trim().is_empty(), "{dir}: fi.{key} is empty");
        }
    }
}

#[test]
fn every_key_the_pages_use_is_defined() {
    for (dir, pages) in CATALOGS {
        let fi = catalog(dir, "fi");
        let undefined: Vec<_> = keys_used(pages)
            .into_iter()
            .filter(|k| !fi.contains_key(k))
            .collect();
        assert!(
            undefined.is_empty(),
            "{pages} uses but {dir} lacks: {undefined:?}"
        );
    }
}

#[test]
fn every_domain_value_has_a_label() {
    let fi = messages("fi");
    let mut wanted = Vec::new();
    wanted.extend(
        Channel::ALL
            .iter()
            .map(|v| format!("channel.{}", v.as_str())),
    );
    wanted.extend(
        Category::ALL
            .iter()
            .map(|v| format!("category.{}", v.as_str())),
    );
    wanted.extend(
        Urgency::ALL
            .iter()
            .map(|v| format!("urgency.{}", v.as_str())),
    );
    wanted.extend(Status::ALL.iter().map(|v| format!("status.{}", v.as_str())));
    let missing: Vec<_> = wanted.iter().filter(|k| !fi.contains_key(*k)).collect();
    assert!(missing.is_empty(), "no label for {missing:?}");
}
