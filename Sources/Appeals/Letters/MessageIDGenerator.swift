import Foundation

/// Makes the `Message-ID` a letter keeps for life, from the moment it is queued.
public struct MessageIDGenerator: Sendable {
    private let make: @Sendable () -> String
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Ids on the sender's domain: `<019ab3c4-…@example.org>`, a version 7 UUID (RFC 9562): the time in
    /// milliseconds, then 74 random bits.
    ///
    /// Time first keeps the ids of a queue run in order, so the unique index takes each at its end rather
    /// than at a random page: at 500,000 letters random ids made that index the slowest part of `queue`.
    public init(domain: String, clock: @escaping @Sendable () -> Date = Date.init) {
        // Foundation's `UUID()` opens /dev/urandom for every id; the system generator does not.
        make = {
            var random = SystemRandomNumberGenerator()
            let milliseconds = UInt64(max(0, clock().timeIntervalSince1970 * 1000))
            return "<\(Self.uuid(milliseconds: milliseconds, random: random.next(), random.next()))@\(domain)>"
        }
    }

    /// A version 7 UUID in lower case from a time in milliseconds and random bits (the first 12 bits of
    /// `high`, 62 of `low`).
    static func uuid(milliseconds: UInt64, random high: UInt64, _ low: UInt64) -> String {
        let high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | high & 0x0FFF
        let low = low & ~(0xC000 << 48) | 0x8000 << 48
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, shift) in stride(from: 124, through: 0, by: -4).enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { text.append(UInt8(ascii: "-")) }
            let nibble = shift >= 64 ? high >> (shift - 64) : low >> shift
            text.append(hexDigits[Int(nibble & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Ids from `make`, for tests that compare bytes.
    public init(_ make: @escaping @Sendable () -> String) {
        self.make = make
    }

    public func next() -> String { make() }
}
