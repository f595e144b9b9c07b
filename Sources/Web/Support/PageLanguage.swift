import Appeals
import Foundation
import Hummingbird

/// Which of a campaign's languages a page is shown in: `?lang=` when the campaign has it (the switch on the
/// page), else the best match of the browser's `Accept-Language`, else the campaign's first language.
enum PageLanguage {
    static func choose(for request: Request, campaign: Campaign) -> String {
        if let wanted = request.uri.queryParameters["lang"].map(String.init), campaign.languages.contains(wanted) { return wanted }
        return negotiate(request.headers[.acceptLanguage] ?? "", offered: campaign.languages) ?? campaign.defaultLanguage
    }

    /// The offered language the `Accept-Language` header prefers most (`fr-CA` is served by `fr`).
    static func negotiate(_ header: String, offered: [String]) -> String? {
        var ranked: [(language: String, quality: Double, order: Int)] = []
        for (order, item) in header.split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            guard quality > 0 else { continue }
            let primary = String(tag.prefix { $0 != "-" })
            if let match = offered.first(where: { $0.lowercased() == tag }) ?? offered.first(where: { $0.lowercased() == primary }) {
                ranked.append((match, quality, order))
            }
        }
        return ranked.sorted { ($0.quality, -$0.order) > ($1.quality, -$1.order) }.first?.language
    }

    /// A language's own name for itself ("français"), capitalized.
    static func name(of code: String) -> String {
        let name = Locale(identifier: code).localizedString(forLanguageCode: code) ?? code
        return name.prefix(1).uppercased() + name.dropFirst()
    }
}
