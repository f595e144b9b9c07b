import Foundation

/// Makes the `Message-ID` a letter keeps for life, from the moment it is queued.
public struct MessageIDGenerator: Sendable {
    private let make: @Sendable () -> String

    /// Random ids on the sender's domain: `<3f2a…@example.org>`, a version 4 UUID.
    public init(domain: String) {
        // Foundation's `UUID()` opens /dev/urandom for every id; the system generator does not.
        make = {
            var random = SystemRandomNumberGenerator()
            return "<\(Self.uuid(high: random.next(), low: random.next()))@\(domain)>"
        }
    }

    /// A version 4 UUID in lower case (RFC 9562) from 128 random bits.
    static func uuid(high: UInt64, low: UInt64) -> String {
        let high = high & ~0xF000 | 0x4000
        let low = low & ~(0xC000 << 48) | 0x8000 << 48
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, shift) in stride(from: 124, through: 0, by: -4).enumerated() {
            if [8, 12, 16, 20].contains(index) { text.append(UInt8(ascii: "-")) }
            let nibble = shift >= 64 ? high >> (shift - 64) : low >> shift
            text.append(digits[Int(nibble & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Ids from `make`, for tests that compare bytes.
    public init(_ make: @escaping @Sendable () -> String) {
        self.make = make
    }

    public func next() -> String { make() }
}
