import Foundation

/// Random bytes from the system's generator (`getrandom(2)` on Linux), for keys and tokens.
public enum SecretKey {
    /// 32 random bytes.
    public static func random(count: Int = 32) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
