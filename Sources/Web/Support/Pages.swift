import Foundation
import Mustache

/// The HTML pages' templates and their texts in each language, loaded once from the files embedded in the
/// binary (`Sources/Web/Pages`). Templates are HTML-escaping Mustache: `{{value}}` is always escaped.
struct Pages: Sendable {
    private let library: MustacheLibrary
    private let texts: [String: [String: String]]
    /// The texts with `{{values}}`, parsed once: for HTML (escaped) and for the plain-text email.
    private let textTemplates: [String: (html: MustacheTemplate, plain: MustacheTemplate)]
    let stylesheet: String
    let icon: String

    init() throws {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("head", PackageResources.head_mustache), ("foot", PackageResources.foot_mustache),
            ("campaign", PackageResources.campaign_mustache), ("preview", PackageResources.preview_mustache),
            ("hidden", PackageResources.hidden_mustache), ("message", PackageResources.message_mustache),
            ("confirm", PackageResources.confirm_mustache), ("letters", PackageResources.letters_mustache),
            ("admin-login", PackageResources.admin_login_mustache), ("admin-home", PackageResources.admin_home_mustache),
            ("admin-logout", PackageResources.admin_logout_mustache), ("admin-campaign", PackageResources.admin_campaign_mustache),
        ]
        for (name, bytes) in templates {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
        texts = try JSONDecoder().decode([String: [String: String]].self, from: Data(PackageResources.texts_json))
        var textTemplates: [String: (html: MustacheTemplate, plain: MustacheTemplate)] = [:]
        for (language, values) in texts {
            for (key, text) in values where text.contains("{{") {
                textTemplates["\(language)|\(key)"] = (try MustacheTemplate(string: text), try MustacheTemplate(string: "{{%CONTENT_TYPE: TEXT}}" + text))
            }
        }
        self.textTemplates = textTemplates
        stylesheet = String(decoding: PackageResources.site_css, as: UTF8.self)
        icon = String(decoding: PackageResources.icon_svg, as: UTF8.self)
    }

    /// The languages the pages' own texts are written in.
    var languages: Set<String> { Set(texts.keys) }

    /// The pages' texts in `language`, in English where it has none.
    func texts(_ language: String) -> [String: String] {
        texts[language] ?? texts["en"]!
    }

    /// A text with `{{name}}`-style values filled in, escaped for HTML when `html`.
    func text(_ key: String, _ language: String, _ values: [String: Any] = [:], html: Bool = true) -> String {
        let language = texts[language] == nil ? "en" : language
        guard let templates = textTemplates["\(language)|\(key)"] else { return texts(language)[key] ?? key }
        return (html ? templates.html : templates.plain).render(values)
    }

    func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: name) ?? ""
    }
}
