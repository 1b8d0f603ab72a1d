//! Reading pages by their structure: CSS selectors over the parsed HTML
//! (`scraper`), for checks such as "the hint is inside the interviewer's
//! panel" or "the field is marked invalid". Where the point is only that a
//! text appears somewhere, or never does (leak checks), tests search the body.

use scraper::{ElementRef, Html, Selector};

/// A parsed HTML page.
pub struct Page {
    html: Html,
    source: String,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
}

/// The text a reader sees for a line of inline Markdown (a hint, a
/// follow-up) once the page has rendered it.
pub fn rendered_text(markdown: &str) -> String {
    let fragment = Html::parse_fragment(&mockloop::domain::markdown::render_inline(markdown));
    fragment.root_element().text().collect::<String>().trim().to_owned()
}

/// The text of an element and its descendants, trimmed.
pub fn text(element: ElementRef<'_>) -> String {
    element.text().collect::<String>().trim().to_owned()
}

impl Page {
    pub fn parse(body: &str) -> Page {
        Page { html: Html::parse_document(body), source: body.to_owned() }
    }

    /// Every element matching `css`, in document order.
    pub fn select(&self, css: &str) -> std::vec::IntoIter<ElementRef<'_>> {
        self.html.select(&selector(css)).collect::<Vec<_>>().into_iter()
    }

    /// The first element matching `css` (panics, showing the page, if none does).
    pub fn one(&self, css: &str) -> ElementRef<'_> {
        self.select(css).next().unwrap_or_else(|| panic!("no {css} on the page: {}", self.source))
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.select(css).count()
    }

    /// Whether any element matches `css`.
    pub fn has(&self, css: &str) -> bool {
        self.select(css).next().is_some()
    }

    /// The text of the first element matching `css`, trimmed (panics if none does).
    pub fn text_of(&self, css: &str) -> String {
        text(self.one(css))
    }

    /// The text of each element matching `css`, trimmed.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css).map(text).collect()
    }

    /// The markup inside the first element matching `css` (panics if none does).
    pub fn inner_html(&self, css: &str) -> String {
        self.one(css).inner_html()
    }

    /// Attribute `name` of the first element matching `css`, if both exist.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.select(css).next().and_then(|element| element.value().attr(name)).map(str::to_owned)
    }

    /// Attribute `name` of every element matching `css` that has it.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        self.select(css).filter_map(|element| element.value().attr(name)).map(str::to_owned).collect()
    }

    /// The value a form field shows: a text area's text, a selected option's
    /// text (or value), or an input's `value`.
    pub fn field_value(&self, css: &str) -> String {
        let field = self.one(css);
        match field.value().name() {
            "textarea" => field.text().collect(),
            "select" => {
                let chosen = field.select(&selector("option[selected]")).next();
                chosen.map(|o| o.value().attr("value").map_or_else(|| text(o), str::to_owned)).unwrap_or_default()
            }
            _ => field.value().attr("value").unwrap_or_default().to_owned(),
        }
    }
}

/// Text as askama escapes it into a page.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// `text` as a query-string value.
pub fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).expect("encodes").trim_start_matches('=').to_owned()
}
