extension Sequence {
    /// The elements by `key`; where keys repeat, the first element is kept.
    public func keyed<Key: Hashable>(by key: (Element) -> Key) -> [Key: Element] {
        Dictionary(map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// `?, ?, ?`: one SQL parameter per value, for `IN (...)`.
func sqlPlaceholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ",")
}
