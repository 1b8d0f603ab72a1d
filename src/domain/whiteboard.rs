//! The candidate's whiteboard: what a saved scene must be, what a drawing
//! says in words (its text alternative), and the SVG the browser exports,
//! made safe to store and show: an allow-list of SVG elements and attributes
//! (svg-hush), no script, no event handlers, no `foreignObject`, no link or
//! resource on another host, and no `data:` URL but the embedded fonts.

use std::io::Write;

use base64::Engine;
use serde_json::Value;

/// Largest scene accepted (Excalidraw's JSON, compact): some hundreds of shapes.
pub const MAX_SCENE_BYTES: usize = 600_000;
/// Largest exported SVG accepted (fonts included, subset to the glyphs used).
pub const MAX_SVG_BYTES: usize = 600_000;
/// Largest SVG stored after sanitising, which re-indents it.
pub const MAX_SAFE_SVG_BYTES: usize = 900_000;

/// Why a drawing was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DrawingError {
    #[error("the drawing is larger than a whiteboard holds")]
    TooLarge,
    #[error("the scene is not a whiteboard scene")]
    NotAScene,
    #[error("the image is not an SVG drawing")]
    NotAnSvg,
}

impl DrawingError {
    /// What the person is told.
    pub fn message(self) -> &'static str {
        match self {
            DrawingError::TooLarge => {
                "The drawing is too large to save (a whiteboard holds about 600 kB). Nothing was saved: remove some shapes or long free-hand strokes."
            }
            DrawingError::NotAScene => "The whiteboard sent a scene that could not be read, so nothing was saved.",
            DrawingError::NotAnSvg => "The whiteboard sent an image that could not be read, so nothing was saved.",
        }
    }
}

/// A whiteboard scene as Excalidraw saves it: a JSON object with an
/// `elements` array of objects, kept as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    json: String,
}

/// What a drawing holds, in words: its shapes and the text written in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SceneSummary {
    /// Elements not deleted, text included.
    pub shapes: usize,
    /// The text elements' text, in drawing order.
    pub texts: Vec<String>,
}

impl Scene {
    pub fn parse(json: &str) -> Result<Scene, DrawingError> {
        if json.len() > MAX_SCENE_BYTES {
            return Err(DrawingError::TooLarge);
        }
        let value: Value = serde_json::from_str(json).map_err(|_| DrawingError::NotAScene)?;
        let elements = value.get("elements").and_then(Value::as_array).ok_or(DrawingError::NotAScene)?;
        if !elements.iter().all(Value::is_object) {
            return Err(DrawingError::NotAScene);
        }
        Ok(Scene { json: json.to_owned() })
    }

    pub fn json(&self) -> &str {
        &self.json
    }
}

impl SceneSummary {
    /// The summary of a stored scene (an unreadable one shows as empty).
    pub fn of_stored(json: &str) -> SceneSummary {
        let value: Value = serde_json::from_str(json).unwrap_or(Value::Null);
        value.get("elements").and_then(Value::as_array).map(|elements| summarise(elements)).unwrap_or_default()
    }

    /// The drawing's text alternative: "Whiteboard drawing: 4 shapes, with the text: a; b".
    pub fn alt_text(&self) -> String {
        const MOST: usize = 400;
        let shapes = match self.shapes {
            0 => "empty".to_owned(),
            1 => "1 shape".to_owned(),
            n => format!("{n} shapes"),
        };
        if self.texts.is_empty() {
            return format!("Whiteboard drawing: {shapes}, no text");
        }
        let mut words = self.texts.join("; ").split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some((cut, _)) = words.char_indices().nth(MOST) {
            words.truncate(cut);
            words.push('…');
        }
        format!("Whiteboard drawing: {shapes}, with the text: {words}")
    }
}

fn summarise(elements: &[Value]) -> SceneSummary {
    let live = elements.iter().filter(|element| element.get("isDeleted") != Some(&Value::Bool(true)));
    let mut summary = SceneSummary::default();
    for element in live {
        summary.shapes += 1;
        if element.get("type").and_then(Value::as_str) == Some("text")
            && let Some(text) = element.get("text").and_then(Value::as_str)
            && !text.trim().is_empty()
        {
            summary.texts.push(text.trim().to_owned());
        }
    }
    summary
}

/// An SVG document that went through [`SafeSvg::sanitize`]: shown only as an
/// image (`<img src="data:…">`), where no script runs whatever it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeSvg(String);

impl SafeSvg {
    /// Keeps what an SVG drawing needs and drops the rest: elements and
    /// attributes outside svg-hush's allow-list (`script`, `foreignObject`,
    /// `on…` handlers among them), links, URLs to another host (only a path
    /// stays), and `data:` URLs other than fonts. A DOCTYPE (entities) is refused.
    pub fn sanitize(untrusted: &str) -> Result<SafeSvg, DrawingError> {
        if untrusted.len() > MAX_SVG_BYTES {
            return Err(DrawingError::TooLarge);
        }
        if untrusted.to_ascii_lowercase().contains("<!doctype") {
            return Err(DrawingError::NotAnSvg);
        }
        let mut filter = svg_hush::Filter::new();
        filter.set_data_url_filter(only_fonts);
        let mut out = CappedWriter { bytes: Vec::with_capacity(untrusted.len()), cap: MAX_SAFE_SVG_BYTES };
        filter.filter(untrusted.as_bytes(), &mut out).map_err(|_| DrawingError::NotAnSvg)?;
        let text = String::from_utf8(out.bytes).map_err(|_| DrawingError::NotAnSvg)?;
        if !text.contains("<svg") {
            return Err(DrawingError::NotAnSvg);
        }
        Ok(SafeSvg(text))
    }

    /// What the database holds: it was sanitised before it was stored.
    pub fn from_stored(svg: String) -> SafeSvg {
        SafeSvg(svg)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `data:image/svg+xml;base64,…`, for an `<img>` or a Markdown image.
    pub fn data_uri(&self) -> String {
        format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

/// Excalidraw embeds the glyphs a drawing uses as font files; any other
/// `data:` URL (an image, a document) is dropped.
fn only_fonts(url: &svg_hush::data_url_filter::DataUrl) -> svg_hush::data_url_filter::DataUrlFilterResult {
    use svg_hush::data_url_filter::DataUrlFilterResult;
    let mime = url.mime_type();
    if mime.type_ == "font" && matches!(mime.subtype.as_str(), "woff2" | "woff" | "ttf" | "otf") {
        DataUrlFilterResult::Keep
    } else {
        DataUrlFilterResult::Drop
    }
}

/// Output that refuses to grow past `cap`: re-indenting deeply nested input
/// must not turn a small body into gigabytes.
struct CappedWriter {
    bytes: Vec<u8>,
    cap: usize,
}

impl Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > self.cap {
            return Err(std::io::Error::other("sanitised SVG too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG_OPEN: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 50" width="100" height="50">"#;

    fn svg(body: &str) -> String {
        format!("{SVG_OPEN}{body}</svg>")
    }

    fn clean(body: &str) -> String {
        SafeSvg::sanitize(&svg(body)).expect("sanitises").as_str().to_owned()
    }

    #[test]
    fn a_drawing_keeps_its_shapes_text_and_embedded_fonts() {
        let out = clean(concat!(
            r#"<defs><style class="style-fonts">@font-face { font-family: Excalifont; src: url(data:font/woff2;base64,d09GMgABAAAA); }</style></defs>"#,
            r##"<rect x="10" y="10" width="30" height="20" fill="#fff" stroke="#1e1e1e" stroke-width="2"/>"##,
            r#"<path d="M0 0 L10 10" stroke-linecap="round" transform="translate(5 5)"/>"#,
            r#"<text x="0" y="18" font-family="Excalifont, Segoe UI Emoji" font-size="16px" style="white-space: pre;" direction="ltr" dominant-baseline="alphabetic">Feature store</text>"#,
        ));
        for kept in [
            "<rect",
            "stroke-width=\"2\"",
            "<path",
            "d=\"M0 0 L10 10\"",
            "Feature store",
            "font-family=\"Excalifont, Segoe UI Emoji\"",
            "url(data:font/woff2;base64,d09GMgABAAAA)",
            "viewBox=\"0 0 100 50\"",
        ] {
            assert!(out.contains(kept), "{kept} kept in {out}");
        }
    }

    #[test]
    fn script_handlers_foreign_objects_and_other_hosts_are_stripped() {
        // Each hostile body, and what must not be left of it (besides what none may keep, below).
        let hostile = [
            ("<script>window.__pwned=1</script>", "__pwned"),
            ("<script xlink:href=\"https://evil.example/x.js\"/>", "x.js"),
            ("<rect width=\"1\" height=\"1\" onload=\"window.__pwned=1\" onclick=\"window.__pwned=1\"/>", "__pwned"),
            ("<svg onload=\"window.__pwned=1\"><rect width=\"1\" height=\"1\"/></svg>", "__pwned"),
            (
                "<foreignObject width=\"10\" height=\"10\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"x\" onerror=\"window.__pwned=1\"/></div></foreignObject>",
                "__pwned",
            ),
            ("<foreignObject><p>hidden html</p></foreignObject>", "hidden html"),
            ("<a href=\"javascript:window.__pwned=1\"><rect width=\"1\" height=\"1\"/></a>", "javascript:"),
            ("<a xlink:href=\"https://evil.example/phish\"><text>click</text></a>", "phish"),
            ("<image href=\"https://evil.example/track.png\" width=\"1\" height=\"1\"/>", "https:"),
            (
                "<image xlink:href=\"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=\" width=\"1\" height=\"1\"/>",
                "data:image",
            ),
            ("<use href=\"https://evil.example/sprite.svg#icon\"/>", "https:"),
            ("<rect style=\"fill: url(https://evil.example/bg.png)\" width=\"1\" height=\"1\"/>", "https:"),
            ("<style>@import url(https://evil.example/x.css); rect { fill: url(//evil.example/p) }</style>", "@import"),
            ("<style>rect { fill: URL( 'https://evil.example/q' ) }</style>", "https:"),
            // An animation may not aim at a link or a handler: it is left with no target.
            ("<animate attributeName=\"href\" to=\"javascript:window.__pwned=1\"/>", "attributeName"),
            ("<set attributeName=\"onclick\" to=\"window.__pwned=1\"/>", "attributeName"),
            ("<iframe src=\"https://evil.example\"/>", "iframe"),
            ("<html:script xmlns:html=\"http://www.w3.org/1999/xhtml\">window.__pwned=1</html:script>", "__pwned"),
        ];
        for (body, gone) in hostile {
            let out = SafeSvg::sanitize(&svg(body)).map(|safe| safe.as_str().to_owned()).unwrap_or_default();
            assert!(!out.contains(gone), "{gone:?} survived {body}: {out}");
            for never in ["<script", "onload", "onclick", "onerror", "foreignObject"] {
                assert!(!out.contains(never), "{never:?} survived {body}: {out}");
            }
            for reference in references(&out) {
                assert!(!reference.contains(':') && !reference.starts_with("//"), "{reference} left in {out}");
            }
        }
    }

    /// Every URL the SVG could load or link to: `url(…)` in styles, and `href` values.
    fn references(svg: &str) -> Vec<String> {
        let lower = svg.to_ascii_lowercase();
        let in_css = lower.split("url(").skip(1).map(|rest| rest.split(')').next().unwrap_or("").to_owned());
        let in_href = lower.split("href=\"").skip(1).map(|rest| rest.split('"').next().unwrap_or("").to_owned());
        in_css.chain(in_href).map(|url| url.trim().trim_matches(['"', '\'']).to_owned()).collect()
    }

    #[test]
    fn what_is_not_an_svg_drawing_is_refused() {
        for bad in [
            "",
            "not xml at all",
            "<html><body>hi</body></html>",
            "<svg><rect></svg>",
            r#"<svg xmlns="http://www.w3.org/2000/svg"><rect/>"#,
            r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><text>&unknown;</text></svg>"#,
        ] {
            assert!(SafeSvg::sanitize(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(SafeSvg::sanitize(&"x".repeat(MAX_SVG_BYTES + 1)), Err(DrawingError::TooLarge));
    }

    #[test]
    fn deep_nesting_cannot_blow_the_output_up() {
        let depth = 40_000;
        let deep = svg(&format!("{}{}", "<g>".repeat(depth), "</g>".repeat(depth)));
        assert!(deep.len() < MAX_SVG_BYTES);
        let started = std::time::Instant::now();
        let result = SafeSvg::sanitize(&deep);
        assert!(result.is_err() || result.is_ok_and(|safe| safe.as_str().len() <= MAX_SAFE_SVG_BYTES));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    #[test]
    fn a_safe_svg_is_shown_as_a_base64_data_uri() {
        let safe = SafeSvg::sanitize(&svg("<rect width=\"1\" height=\"1\"/>")).expect("sanitises");
        let uri = safe.data_uri();
        let encoded = uri.strip_prefix("data:image/svg+xml;base64,").expect("the prefix");
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64");
        assert_eq!(decoded, safe.as_str().as_bytes());
    }

    #[test]
    fn a_scene_is_an_object_with_an_array_of_elements() {
        let scene = Scene::parse(
            r#"{"type":"excalidraw","elements":[
                {"type":"rectangle","id":"a"},
                {"type":"text","id":"b","text":"Feature store"},
                {"type":"text","id":"c","text":"gone","isDeleted":true},
                {"type":"text","id":"d","text":"  "}
            ],"appState":{}}"#,
        )
        .expect("a scene");
        assert_eq!(
            SceneSummary::of_stored(scene.json()),
            SceneSummary { shapes: 3, texts: vec!["Feature store".into()] }
        );
        for bad in ["", "[]", "{}", r#"{"elements":{}}"#, r#"{"elements":[1]}"#, "{\"elements\":[", "null"] {
            assert_eq!(Scene::parse(bad), Err(DrawingError::NotAScene), "{bad:?}");
        }
        let huge = format!(r#"{{"elements":[],"pad":"{}"}}"#, "x".repeat(MAX_SCENE_BYTES));
        assert_eq!(Scene::parse(&huge), Err(DrawingError::TooLarge));
    }

    #[test]
    fn the_text_alternative_names_the_shapes_and_the_words_in_them() {
        let summary = SceneSummary { shapes: 4, texts: vec!["Feature\nstore".into(), "Model server".into()] };
        assert_eq!(summary.alt_text(), "Whiteboard drawing: 4 shapes, with the text: Feature store; Model server");
        assert_eq!(SceneSummary { shapes: 1, texts: vec![] }.alt_text(), "Whiteboard drawing: 1 shape, no text");
        assert_eq!(SceneSummary::default().alt_text(), "Whiteboard drawing: empty, no text");
        let long = SceneSummary { shapes: 1, texts: vec!["word ".repeat(500)] };
        assert!(long.alt_text().ends_with('…') && long.alt_text().chars().count() < 460);
        assert_eq!(SceneSummary::of_stored("not json"), SceneSummary::default());
    }
}
