import Appeals
import Foundation
import Mailer

/// The email asking a supporter to confirm their letters, in the language they read the page in.
struct ConfirmationEmail {
    let site: WebSite
    let campaign: Campaign
    let submission: Submission
    let token: String

    func outboxMessage() throws -> OutboxMessage {
        let language = submission.pageLanguage
        let base = site.config.web.baseURL
        let values: [String: Any] = [
            "name": submission.name, "title": campaign.title, "organization": campaign.organization,
            "hours": site.config.web.confirmationHours, "confirmURL": "\(base)/confirm/\(token)", "notMeURL": "\(base)/not-me/\(token)",
        ]
        let sender = site.config.sender
        let message = try MailMessage(
            from: MailAddress(name: sender.name, address: sender.address), replyTo: nil,
            to: [MailAddress(name: submission.name, address: submission.email)],
            subject: site.pages.text("emailSubject", language, values, html: false),
            body: site.pages.text("emailBody", language, values, html: false),
            messageID: site.messageIDs.next(), date: site.now())
        return OutboxMessage(recipient: submission.email, envelopeFrom: sender.envelopeFrom ?? sender.address,
                             message: Data(message.rendered().utf8))
    }
}
