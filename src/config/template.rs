//! `aws.user_arn_template` filled in for one person: the IAM user ARN of
//! everyone the roster gives none.

use super::Config;

impl Config {
    /// The IAM user ARN a person gets from the template, if one is set and the
    /// person has the field it names.
    pub fn user_arn_from_template(
        &self,
        email: &str,
        github_username: Option<&str>,
    ) -> Option<String> {
        let template = self.aws.as_ref()?.user_arn_template.as_ref()?;
        if template.contains("{github_username}") {
            let login = github_username?;
            Some(substitute(
                &substitute(template, "{github_username}", login),
                "{email}",
                email,
            ))
        } else {
            Some(substitute(template, "{email}", email))
        }
    }
}

impl Config {
    /// The Identity Store user name a person gets from
    /// `aws.identity_center.user_name`, if Identity Center is configured and
    /// the person has the field the template names.
    pub fn sso_user_name(&self, email: &str, github_username: Option<&str>) -> Option<String> {
        let template = &self.aws.as_ref()?.identity_center.as_ref()?.user_name;
        let mut name = template.clone();
        if name.contains("{github_username}") {
            name = substitute(&name, "{github_username}", github_username?);
        }
        Some(substitute(&name, "{email}", email))
    }
}

/// `text` with every `placeholder` (which starts with `{`) replaced by
/// `value`, left to right as [`str::replace`] does; found by looking only at
/// each `{`, since this runs once per person in a large roster.
fn substitute(text: &str, placeholder: &str, value: &str) -> String {
    let mut out = String::with_capacity(text.len() + value.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let (before, from_brace) = rest.split_at(i);
        out.push_str(before);
        match from_brace.strip_prefix(placeholder) {
            Some(after) => {
                out.push_str(value);
                rest = after;
            }
            None => {
                out.push('{');
                rest = &from_brace[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::substitute;

    #[test]
    fn substitute_matches_str_replace() {
        for text in [
            "arn:aws:iam::1:user/{email}",
            "{email}{email}",
            "{{email}}",
            "{emai{email}",
            "{email",
            "no placeholder",
            "",
            "{é}{email}ü{",
        ] {
            for value in ["", "a@b.c", "{email}", "ü"] {
                assert_eq!(
                    substitute(text, "{email}", value),
                    text.replace("{email}", value),
                    "{text:?} with {value:?}"
                );
            }
        }
    }
}
