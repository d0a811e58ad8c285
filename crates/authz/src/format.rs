//! Cedar's own formatter (the one behind `cedar format`), for `latchkey
//! policy fmt`. It keeps comments and annotations, and refuses to answer
//! when the formatted text would parse to different policies.

/// Why a policy text could not be formatted: usually a parse error, with
/// the line and column where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(String);

/// `text` formatted with lines of at most `line_width` characters where
/// the formatter can, indented by `indent_width` spaces. The result ends
/// with a newline; a text without policies keeps its comments only
/// (whitespace alone gives an empty text).
pub fn format_policies(text: &str, line_width: usize, indent_width: usize) -> Result<String, FormatError> {
    let config = cedar_policy_formatter::Config {
        line_width,
        indent_width: isize::try_from(indent_width).map_err(|_| FormatError("indent width too large".into()))?,
    };
    let formatted = cedar_policy_formatter::policies_str_to_pretty(text, &config).map_err(|report| {
        let mut parts: Vec<String> = Vec::new();
        // The report's message and each cause, on one line ...
        let mut message: Vec<String> = Vec::new();
        for cause in report.chain() {
            let line = cause.to_string().replace('\n', " ");
            if !message.iter().any(|p| p.contains(&line)) {
                message.push(line);
            }
        }
        parts.push(with_position(text, report.labels(), &message.join(": ")));
        // ... then every other error found.
        for other in report.related().into_iter().flatten() {
            parts.push(with_position(text, other.labels(), &other.to_string().replace('\n', " ")));
        }
        FormatError(parts.join("; "))
    })?;
    // Without policies the formatter starts with an empty line.
    Ok(formatted.strip_prefix('\n').map(str::to_owned).unwrap_or(formatted))
}

/// "line L, column C: message" for the first labelled span, if any.
fn with_position(
    text: &str,
    labels: Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>>,
    message: &str,
) -> String {
    let Some(offset) = labels.into_iter().flatten().next().map(|l| l.offset()) else {
        return message.to_owned();
    };
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {message}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::format_policies;

    #[test]
    fn formats_and_keeps_comments_and_annotations() {
        let messy = "// who may read\n@id(\"read\")   permit(principal,action==Action::\"read\",resource) when {   principal.level>2 } ;";
        let out = format_policies(messy, 80, 2).unwrap();
        assert!(out.contains("// who may read"), "{out}");
        assert!(out.contains("@id(\"read\")"), "{out}");
        assert!(out.contains("principal.level > 2"), "{out}");
        assert_eq!(format_policies(&out, 80, 2).unwrap(), out, "formatting is idempotent");
    }

    #[test]
    fn texts_without_policies() {
        assert_eq!(format_policies("", 80, 2).unwrap(), "");
        assert_eq!(format_policies(" \n\n", 80, 2).unwrap(), "");
        assert_eq!(format_policies("// nothing yet\n", 80, 2).unwrap(), "// nothing yet\n");
    }

    #[test]
    fn a_parse_error_says_where() {
        let e = format_policies(
            "permit(principal, action, resource);\npermit(principal, action, resource) when { principal. };",
            80,
            2,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("line 2, column "), "{e}");
        assert!(e.contains("unexpected token"), "{e}");
    }
}
