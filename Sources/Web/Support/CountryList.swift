import Appeals
import Foundation
import Synchronization

/// Every country's code and name in a language, sorted as that language sorts: built once per language.
final class CountryList: Sendable {
    struct Country: Sendable {
        let code: String
        let name: String
    }

    private let cache = Mutex<[String: [Country]]>([:])

    func countries(in language: String) -> [Country] {
        if let list = cache.withLock({ $0[language] }) { return list }
        let locale = Locale(identifier: language)
        let list = CountryCode.all.map { Country(code: $0, name: CountryCode.name(of: $0, in: language)) }
            .sorted { $0.name.compare($1.name, options: [.caseInsensitive, .diacriticInsensitive], locale: locale) == .orderedAscending }
        cache.withLock { $0[language] = list }
        return list
    }
}
