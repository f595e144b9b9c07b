/// The shape of the values a letter template may use: the documented variables, and nothing else.
indirect enum TemplateSchema: Sendable, Equatable {
    case text
    case flag
    case list(TemplateSchema)
    case object([String: TemplateSchema])

    /// Every variable a letter template may name.
    static let letter: TemplateSchema = .object([
        "supporter": .object(["name": .text, "email": .text, "city": .text, "country": .text, "countryName": .text, "language": .text]),
        "target": .object([
            "name": .text, "title": .text, "salutation": .text, "kind": .text, "country": .text, "countryName": .text,
            "isEmbassy": .flag, "postalAddress": .text, "fax": .text,
        ]),
        "campaign": .object(["title": .text, "organization": .text, "summary": .text, "slug": .text, "demands": .list(.text)]),
        "personalNote": .text,
        "date": .text,
    ])

    /// Every name a template may use, dotted, sorted: `campaign.demands`, `date`, ….
    var names: [String] {
        guard case .object(let children) = self else { return [] }
        return children.keys.sorted().flatMap { key -> [String] in
            let nested = children[key]!.names
            return nested.isEmpty ? [key] : nested.map { "\(key).\($0)" }
        }
    }

    func child(_ name: Substring) -> TemplateSchema? {
        if case .object(let children) = self { return children[String(name)] }
        return nil
    }
}
