import Crypto
import Foundation

/// VERP return paths: each letter goes out with the envelope sender `local+TOKEN@domain`, so that its bounce
/// comes back to an address that names it. The token carries a MAC made with a key kept in the database: a
/// forged or guessed bounce names no letter.
public struct ReturnPath: Sendable {
    /// What a token names.
    public enum Token: Sendable, Equatable {
        case letter(Int64)
        /// A `--test-to` sample for this target: its bounce changes nothing.
        case test(targetId: Int64)
        /// An address of ours whose token is not one we made.
        case forged(String)
    }

    public let local: String
    public let domain: String
    let key: Data

    /// Bits of MAC in a token: 80, written as 16 base32 characters.
    static let macBytes = 10

    /// - Parameters:
    ///   - bounceAddress: `sender.bounceAddress`, e.g. `bounces@example.org`.
    ///   - key: the database's `verp` key.
    public init?(bounceAddress: String?, key: Data) {
        guard let bounceAddress, let at = bounceAddress.lastIndex(of: "@") else { return nil }
        local = String(bounceAddress[..<at])
        domain = String(bounceAddress[bounceAddress.index(after: at)...])
        self.key = key
    }

    /// The envelope sender for letter `id`.
    public func address(forLetter id: Int64) -> String { address(token: "l\(id)") }

    /// The envelope sender of a `--test-to` sample for target `id`.
    public func address(forTestOf targetId: Int64) -> String { address(token: "t\(targetId)") }

    private func address(token body: String) -> String {
        "\(local)+\(body)-\(mac(body))@\(domain)"
    }

    private func mac(_ body: String) -> String {
        Base32.lowercase(Array(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: key)).prefix(Self.macBytes)))
    }

    /// What `address` names, or nil when it is not one of our return paths (another address, or ours without
    /// a token). Local part and domain are compared without case, as some servers change it.
    public func token(in address: String) -> Token? {
        let lowered = address.lowercased()
        let prefix = local.lowercased() + "+", suffix = "@" + domain.lowercased()
        guard lowered.hasPrefix(prefix), lowered.hasSuffix(suffix), lowered.count > prefix.count + suffix.count else { return nil }
        let token = String(lowered.dropFirst(prefix.count).dropLast(suffix.count))
        guard let dash = token.lastIndex(of: "-") else { return .forged(token) }
        let body = String(token[..<dash]), given = Array(token[token.index(after: dash)...].utf8)
        let expected = Array(mac(body).utf8)
        // Compared in constant time: a wrong MAC must not tell how much of it was right.
        guard given.count == expected.count, zip(given, expected).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0,
              let kind = body.first, let id = Int64(body.dropFirst()), id > 0 else { return .forged(token) }
        switch kind {
        case "l": return .letter(id)
        case "t": return .test(targetId: id)
        default: return .forged(token)
        }
    }
}

/// RFC 4648 base32 without padding, lower-case: safe in a local part, and unchanged by servers that lower-case it.
enum Base32 {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    static func lowercase(_ bytes: [UInt8]) -> String {
        var output = ""
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
