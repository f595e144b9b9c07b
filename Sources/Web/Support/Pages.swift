import Foundation
import Mustache

/// The HTML pages' templates and their texts in each language, loaded once from the files embedded in the
/// binary (`Sources/Web/Pages`). Templates are HTML-escaping Mustache: `{{value}}` is always escaped.
struct Pages: Sendable {
    private let library: MustacheLibrary
    private let texts: [String: [String: String]]
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
        let source = texts(language)[key] ?? key
        guard let template = try? MustacheTemplate(string: (html ? "" : "{{%CONTENT_TYPE: TEXT}}") + source) else { return source }
        return template.render(values)
    }

    func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: name) ?? ""
    }
}
