/// SplitMix64: a small random generator with a seed, so a failing property test can be replayed exactly.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Text built to break encoders: line breaks, NUL, look-alike encoded-words, dots and `From ` at line
/// starts, very long words, quotes, brackets, and scripts from Azerbaijani to Arabic and emoji.
public enum HostileText {
    public static let pieces: [String] = [
        "a", "Z", "7", " ", "  ", "\t", "\r", "\n", "\r\n", "\0", "\u{7}", ".", "..", "From ", ">From ", "=", "=?UTF-8?B?SGk=?=",
        "\"", "\\", ",", ";", ":", "<", ">", "@", "(", ")", "'", "%", "_", "İ", "ə", "ş", "ğ", "Ç", "ü", "é", "ß", "山田", "حقوق",
        "🕊️", "👩🏽‍⚖️", "\u{301}", "\u{200B}", "\u{00A0}", "Bcc: x@example.net", "Subject: forged", String(repeating: "x", count: 120),
        String(repeating: "Ş", count: 50), "Robert'); DROP TABLE letter;--", "\u{FEFF}",
    ]

    public static func make(_ random: inout SeededRandom, maxPieces: Int) -> String {
        let count = Int.random(in: 0...maxPieces, using: &random)
        return (0..<count).map { _ in pieces.randomElement(using: &random)! }.joined()
    }
}
