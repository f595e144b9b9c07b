import Foundation

/// How bounces act: whom to trust, and when temporary failures disable a target.
public struct BouncePolicy: Sendable {
    /// The VERP return paths, when `sender.bounceAddress` is set. Then only a bounce with a valid token acts;
    /// one matched otherwise (by Message-ID or address) is recorded and changes nothing, since anyone could
    /// have sent it.
    public var returnPath: ReturnPath?
    /// Our own addresses (sender, envelope sender, bounce address): never a failed recipient.
    public var ownAddresses: Set<String>
    /// A target is disabled once temporary failures of its letters were reported on this many different days...
    public var transientDays = 3
    /// ...within this many days.
    public var transientWindowDays = 14
    /// A bounce that names only an address is matched to the last letter sent to it within this many days.
    public var recipientMatchDays = 30

    public init(returnPath: ReturnPath?, ownAddresses: Set<String>) {
        self.returnPath = returnPath
        self.ownAddresses = Set(ownAddresses.map { $0.lowercased() })
    }

    /// The policy for `config`, with the database's VERP key.
    public init(config: AppConfig, verpKey: Data) {
        self.init(returnPath: ReturnPath(bounceAddress: config.sender.bounceAddress, key: verpKey),
                  ownAddresses: Set([config.sender.address, config.sender.envelopeFrom, config.sender.bounceAddress].compactMap { $0 }))
    }

    func isOwn(_ address: String) -> Bool {
        ownAddresses.contains(address.lowercased()) || returnPath?.token(in: address) != nil
    }
}
