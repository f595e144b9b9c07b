import Foundation

/// Finds an email address in bytes however a message may carry it: as text in UTF-8 or any ASCII-based charset,
/// percent-encoded (`%40`, whatever stray `%` lie around it), as an HTML character reference (`&#64;`), or in
/// UTF-16 or UTF-32 of either byte order; in any case of letters. Erasing a supporter removes the kept messages
/// where it finds them: it may find an address where none was meant (the safe side), and never misses one
/// written in these forms.
struct AddressSearch: Sendable {
    private let patterns: [[UInt8]]

    init(_ address: String) {
        let lower = address.lowercased()
        var patterns = Self.quotedForms(of: lower).map { Array($0.utf8) }
        let units = Array(lower.utf16)
        patterns.append(units.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        patterns.append(units.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        let scalars = lower.unicodeScalars.map(\.value)
        patterns.append(scalars.flatMap { value in (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } })
        patterns.append(scalars.flatMap { value in (0..<4).reversed().map { UInt8((value >> (8 * $0)) & 0xFF) } })
        self.patterns = patterns
    }

    /// The address as text quotes it: as it is, percent-encoded (`%40`), as an HTML character reference.
    static func quotedForms(of address: String) -> [String] {
        ["@", "%40", "&#64;", "&#x40;"].map { address.replacingOccurrences(of: "@", with: $0) }
    }

    /// Whether `bytes` carry the address in one of the forms, as they are or with each `%XX` decoded.
    func found(in bytes: some Collection<UInt8>) -> Bool {
        let lowered = bytes.map(Self.lowercased)
        if contains(lowered) { return true }
        guard lowered.contains(0x25) else { return false }
        return contains(Self.percentDecoded(lowered).map(Self.lowercased))
    }

    private func contains(_ haystack: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { hay in
            patterns.contains { pattern in pattern.withUnsafeBytes { needle in Self.occurs(needle, in: hay) } }
        }
    }

    /// Whether `needle` occurs in `hay`: `memchr` to each candidate first byte, then `memcmp`.
    private static func occurs(_ needle: UnsafeRawBufferPointer, in hay: UnsafeRawBufferPointer) -> Bool {
        guard let needleStart = needle.baseAddress, !needle.isEmpty else { return true }
        guard let start = hay.baseAddress, hay.count >= needle.count else { return false }
        let last = hay.count - needle.count
        var offset = 0
        while offset <= last {
            guard let found = memchr(start + offset, Int32(needle[0]), last - offset + 1) else { return false }
            let position = start.distance(to: UnsafeRawPointer(found))
            if memcmp(start + position, needleStart, needle.count) == 0 { return true }
            offset = position + 1
        }
        return false
    }

    /// ASCII letters in lower case; other bytes as they are (a byte of a UTF-16 unit that looks like a capital
    /// letter is lowered too: it can only make a match more likely).
    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    /// Each `%XX` with two hexadecimal digits decoded; any other `%` left as it is.
    static func percentDecoded(_ bytes: [UInt8]) -> [UInt8] {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x61...0x66: byte - 0x61 + 10
            case 0x41...0x46: byte - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x25, index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }
}
