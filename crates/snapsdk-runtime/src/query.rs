//! Query strings as the vendors' documents write them: spaces as `%20`.

use serde::Serialize;

use crate::Error;

/// The query string of a flat struct or list of pairs: every value
/// percent-encoded once, a space as `%20` (RFC 3986; SnapEngage's examples
/// send `messageBody=I%20need%20help`), never `+`, which only HTML-form
/// decoders read as a space. A literal `+` goes out as `%2B`.
///
/// Request bodies of type `application/x-www-form-urlencoded` keep
/// [`crate::encode::form`], where `+` is the form's own spelling of a space.
///
/// # Errors
///
/// [`Error::InvalidArgument`] when the value is not a flat list of pairs.
pub fn encode<T: Serialize>(operation: &'static str, value: &T) -> Result<String, Error> {
    // Form encoding escapes every byte but alphanumerics and `*-._`, and
    // writes a space as `+`: a `+` in its output is always a space.
    Ok(crate::encode::form(operation, value)?.replace('+', "%20"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_are_percent_20_and_a_plus_stays_a_plus() {
        let q = encode("send_message", &[("messageBody", "I need help finding shoes!"), ("caseId", "a+b c")]).unwrap();
        assert_eq!(q, "messageBody=I%20need%20help%20finding%20shoes%21&caseId=a%2Bb%20c");
        let back: Vec<(String, String)> = serde_urlencoded::from_str(&q).unwrap();
        assert_eq!(back, [("messageBody".to_owned(), "I need help finding shoes!".to_owned()), ("caseId".to_owned(), "a+b c".to_owned())]);
        assert!(!q.contains('+'));
    }

    #[test]
    fn empty_and_unicode() {
        assert_eq!(encode("op", &Vec::<(&str, &str)>::new()).unwrap(), "");
        assert_eq!(encode("op", &[("q", "é ü")]).unwrap(), "q=%C3%A9%20%C3%BC");
    }
}
