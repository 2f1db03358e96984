//! NETtalk (Sejnowski & Rosenberg 1987): English words with their phoneme and stress strings,
//! one symbol per letter (`../shared/data/nettalk/nettalk.data`, tab separated: word, phonemes,
//! stress/syllable marks, word type).
//!
//! Samples are letters in context: a 7-letter window (the letter, three before, three after;
//! beyond the word a blank), each letter one-hot over 27 symbols (a–z and the blank): 189
//! inputs. The target is 26 values: 21 articulatory features of the letter's phoneme and a
//! one-hot of its 5 stress/syllable marks (`0`, `1`, `2`, `<`, `>`). A prediction is read as
//! the (phoneme, mark) whose code has the largest cosine with the output.
//!
//! The feature inventory follows the paper's categories (place, manner, voicing, vowel height
//! and position, tenseness, silence) in a 21-unit layout of our own: the paper's appendix table
//! is not available here, so each phoneme's features were assigned from its standard
//! articulation (compounds such as X = /ks/ take the union of their parts), and every phoneme
//! has a distinct code (tested). Results therefore compare with the paper's in kind, not digit
//! for digit.
//!
//! Split (documented choice): the reference used 5033 training and 500 test letters from a
//! file that is not public; here both come from the 1000 most common words of `nettalk.list`
//! (Brown-corpus order, the paper's 1000-word set), and the test set is the last whole words
//! that make up at least 500 letters.

use crate::error::{Error, Result};
use std::path::Path;

pub const WINDOW: usize = 7;
pub const SYMBOLS: usize = 27;
pub const INPUTS: usize = WINDOW * SYMBOLS;
pub const FEATURES: usize = 21;
pub const MARKS: [u8; 5] = *b"012<>";
pub const OUTPUTS: usize = FEATURES + MARKS.len();

/// Articulatory features: 0 labial, 1 dental, 2 alveolar, 3 palatal, 4 velar, 5 glottal,
/// 6 stop, 7 nasal, 8 fricative, 9 affricate, 10 glide, 11 liquid, 12 voiced, 13 high, 14 mid,
/// 15 low, 16 front, 17 central, 18 back, 19 tense, 20 silent.
const PHONEMES: &[(u8, &[usize])] = &[
    (b'p', &[0, 6]),
    (b'b', &[0, 6, 12]),
    (b't', &[2, 6]),
    (b'd', &[2, 6, 12]),
    (b'k', &[4, 6]),
    (b'g', &[4, 6, 12]),
    (b'f', &[0, 1, 8]),
    (b'v', &[0, 1, 8, 12]),
    (b'T', &[1, 8]),
    (b'D', &[1, 8, 12]),
    (b's', &[2, 8]),
    (b'z', &[2, 8, 12]),
    (b'S', &[3, 8]),
    (b'Z', &[3, 8, 12]),
    (b'C', &[3, 9]),
    (b'J', &[3, 9, 12]),
    (b'h', &[5, 8]),
    (b'm', &[0, 7, 12]),
    (b'n', &[2, 7, 12]),
    (b'G', &[4, 7, 12]),
    (b'l', &[2, 11, 12]),
    (b'r', &[3, 11, 12]),
    (b'w', &[0, 4, 10, 12]),
    (b'y', &[3, 10, 12]),
    // Syllabic consonants: the consonant with a reduced (mid central) vowel.
    (b'L', &[2, 11, 12, 14, 17]),
    (b'M', &[0, 7, 12, 14, 17]),
    (b'N', &[2, 7, 12, 14, 17]),
    // Compounds: the union of their parts.
    (b'K', &[3, 4, 6, 8]),               // /kʃ/
    (b'X', &[2, 4, 6, 8]),               // /ks/
    (b'!', &[2, 6, 8]),                  // /ts/
    (b'#', &[2, 4, 6, 8, 12]),           // /gz/
    (b'Q', &[0, 4, 6, 10]),              // /kw/
    (b'*', &[0, 4, 5, 8, 10, 12]),       // /hw/
    (b'Y', &[3, 10, 12, 13, 18, 19]),    // /ju/
    (b'+', &[0, 4, 10, 12, 15, 18, 19]), // /wɑ/
    // Vowels.
    (b'i', &[12, 13, 16, 19]),
    (b'I', &[12, 13, 16]),
    (b'e', &[12, 14, 16, 19]),
    (b'E', &[12, 14, 16]),
    (b'@', &[12, 15, 16]),
    (b'a', &[12, 15, 18, 19]),
    (b'c', &[12, 15, 18]),
    (b'o', &[12, 14, 18, 19]),
    (b'u', &[12, 13, 18, 19]),
    (b'U', &[12, 13, 18]),
    (b'x', &[12, 14, 17]),
    (b'^', &[12, 15, 17]),
    (b'R', &[3, 11, 12, 14, 17]),
    // Diphthongs: both targets' height and position.
    (b'A', &[12, 13, 15, 16, 17, 19]),
    (b'O', &[12, 13, 14, 16, 18, 19]),
    (b'W', &[12, 13, 15, 17, 18, 19]),
    // A letter with no sound of its own.
    (b'-', &[20]),
];

/// The 26-value code of a phoneme and stress mark; `None` for an unknown symbol.
pub fn code(phoneme: u8, mark: u8) -> Option<[f32; OUTPUTS]> {
    let features = PHONEMES.iter().find(|(p, _)| *p == phoneme)?.1;
    let m = MARKS.iter().position(|&s| s == mark)?;
    let mut out = [0.0; OUTPUTS];
    features.iter().for_each(|&f| out[f] = 1.0);
    out[FEATURES + m] = 1.0;
    Some(out)
}

/// One word of the corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    pub letters: Vec<u8>,
    pub phonemes: Vec<u8>,
    pub marks: Vec<u8>,
}

/// Parses `nettalk.data`; errors name the line.
pub fn parse(text: &str, source: &Path) -> Result<Vec<Word>> {
    let bad = |line: usize, what: String| Error::Other(format!("{}:{}: {what}", source.display(), line + 1));
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 3 {
            return Err(bad(n, format!("expected word, phonemes and stress marks separated by tabs, found {} field(s)", fields.len())));
        }
        let (letters, phonemes, marks) = (fields[0].as_bytes(), fields[1].as_bytes(), fields[2].as_bytes());
        if letters.len() != phonemes.len() || letters.len() != marks.len() {
            return Err(bad(n, format!("word {:?} has {} letters but {} phonemes and {} stress marks", fields[0], letters.len(), phonemes.len(), marks.len())));
        }
        if let Some(c) = letters.iter().find(|c| !c.is_ascii_lowercase()) {
            return Err(bad(n, format!("letter {:?} in {:?} is not a–z", *c as char, fields[0])));
        }
        for (&p, &m) in phonemes.iter().zip(marks) {
            if code(p, m).is_none() {
                return Err(bad(n, format!("unknown phoneme {:?} or stress mark {:?} in {:?}", p as char, m as char, fields[0])));
            }
        }
        words.push(Word { letters: letters.to_vec(), phonemes: phonemes.to_vec(), marks: marks.to_vec() });
    }
    if words.is_empty() {
        return Err(Error::Other(format!("{}: no words", source.display())));
    }
    Ok(words)
}

/// The words of `nettalk.list` (inside its parenthesised list), lower-cased.
pub fn parse_word_list(text: &str) -> Vec<String> {
    let start = text.find("(THE").or_else(|| text.rfind('(')).map_or(0, |i| i + 1);
    let end = text[start..].find(')').map_or(text.len(), |i| start + i);
    text[start..end].split_whitespace().map(str::to_ascii_lowercase).collect()
}

/// Letter windows and targets, row-major: `inputs` is samples × 189, `targets` samples × 26.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
}

impl Windows {
    pub fn len(&self) -> usize {
        self.targets.len() / OUTPUTS
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    pub fn push_word(&mut self, w: &Word) {
        let n = w.letters.len() as isize;
        for k in 0..n {
            for offset in -(WINDOW as isize / 2)..=(WINDOW as isize / 2) {
                let mut one_hot = [0.0f32; SYMBOLS];
                let at = k + offset;
                let symbol = if at >= 0 && at < n { (w.letters[at as usize] - b'a') as usize } else { SYMBOLS - 1 };
                one_hot[symbol] = 1.0;
                self.inputs.extend_from_slice(&one_hot);
            }
            self.targets.extend_from_slice(&code(w.phonemes[k as usize], w.marks[k as usize]).expect("validated when parsed"));
        }
    }
}

/// The training and test windows of the documented split.
pub fn load(data_dir: &Path) -> Result<(Windows, Windows)> {
    let read = |name: &str| {
        let path = data_dir.join("nettalk").join(name);
        let path = if path.is_file() { path } else { data_dir.join(name) };
        std::fs::read_to_string(&path).map(|t| (t, path.clone())).map_err(|e| Error::io(path, e))
    };
    let (data, data_path) = read("nettalk.data")?;
    let (list, _) = read("nettalk.list")?;
    let words = parse(&data, &data_path)?;
    let mut chosen: Vec<&Word> = Vec::new();
    for name in parse_word_list(&list) {
        if let Some(w) = words.iter().find(|w| w.letters == name.as_bytes()) {
            if !chosen.iter().any(|c| c.letters == w.letters) {
                chosen.push(w);
            }
        }
    }
    if chosen.is_empty() {
        return Err(Error::Other(format!("{}: none of the listed words are in the corpus", data_dir.display())));
    }
    let (mut test_words, mut letters) = (0, 0);
    while letters < 500 && test_words < chosen.len() - 1 {
        test_words += 1;
        letters += chosen[chosen.len() - test_words].letters.len();
    }
    let (mut train, mut test) = (Windows::default(), Windows::default());
    let split = chosen.len() - test_words;
    chosen[..split].iter().for_each(|w| train.push_word(w));
    chosen[split..].iter().for_each(|w| test.push_word(w));
    Ok((train, test))
}

/// Index of the (phoneme, mark) code with the largest cosine to `output`, among `codes`.
pub fn nearest(output: &[f32], codes: &[[f32; OUTPUTS]]) -> usize {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    let on = norm(output);
    let cosine = |c: &[f32; OUTPUTS]| c.iter().zip(output).map(|(a, b)| a * b).sum::<f32>() / (norm(c) * on);
    (0..codes.len()).max_by(|&a, &b| cosine(&codes[a]).total_cmp(&cosine(&codes[b]))).expect("at least one code")
}

/// Every (phoneme, mark) code.
pub fn all_codes() -> Vec<[f32; OUTPUTS]> {
    PHONEMES.iter().flat_map(|&(p, _)| MARKS.iter().map(move |&m| code(p, m).expect("known symbols"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_windows_are_one_hot() {
        let codes = all_codes();
        for i in 0..codes.len() {
            for j in 0..i {
                assert_ne!(codes[i], codes[j], "codes {i} and {j} collide");
            }
            // Each code is its own nearest neighbour.
            assert_eq!(nearest(&codes[i], &codes), i);
        }
        let words = parse("cat\tk@t\t>1<\t0\n", Path::new("t")).unwrap();
        let mut w = Windows::default();
        w.push_word(&words[0]);
        assert_eq!((w.len(), w.inputs.len()), (3, 3 * INPUTS));
        // Letter 0 ('c'): three blanks, then c, a, t, blank.
        let first = &w.inputs[..INPUTS];
        let hot: Vec<usize> = first.chunks(SYMBOLS).map(|s| s.iter().position(|&v| v == 1.0).unwrap()).collect();
        assert_eq!(hot, vec![26, 26, 26, 2, 0, 19, 26]);
        assert_eq!(&w.targets[..OUTPUTS], &code(b'k', b'>').unwrap());
    }

    #[test]
    fn corrupt_and_truncated_lines_name_their_line() {
        let src = Path::new("nettalk.data");
        let err = |t: &str| parse(t, src).unwrap_err().to_string();
        assert!(err("cat\tk@t\t>1<\t0\ndog\tdcg\n").contains("nettalk.data:2"));
        assert!(err("cat\tk@\t>1<\t0\n").contains("2 phonemes"));
        assert!(err("cat\tk@%\t>1<\t0\n").contains("unknown phoneme '%'"));
        assert!(err("cAt\tk@t\t>1<\t0\n").contains("not a–z"));
        assert!(err("").contains("no words"));
        assert!(err("cat\tk@t\t>1").contains("3 letters"));
    }

    #[test]
    fn the_word_list_is_read_from_its_parentheses() {
        let list = "Note (by someone)\n\n(THE OF AND\n TO)\n";
        assert_eq!(parse_word_list(list), vec!["the", "of", "and", "to"]);
    }
}
