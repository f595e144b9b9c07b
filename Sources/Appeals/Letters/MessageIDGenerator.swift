import Foundation

/// Makes the `Message-ID` a letter keeps for life, from the moment it is queued.
public struct MessageIDGenerator: Sendable {
    private let make: @Sendable () -> String

    /// Random ids on the sender's domain: `<3f2a…@example.org>`.
    public init(domain: String) {
        make = { "<\(UUID().uuidString.lowercased())@\(domain)>" }
    }

    /// Ids from `make`, for tests that compare bytes.
    public init(_ make: @escaping @Sendable () -> String) {
        self.make = make
    }

    public func next() -> String { make() }
}
