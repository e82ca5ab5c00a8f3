"""Labelled utterances for scoring ``sessions_app.redaction``.

Lines are written the way speech-to-text renders customer-service calls: numbers as digits, as words,
or both; "oh" for zero; "double five"; commas where the speaker paused; emails read out with "dot" and
"at". Each ``Example`` carries its text and the exact PII substrings in order of appearance, so a label
never depends on character arithmetic. Hand-written lines are tagged inline (``<phone>...</phone>``; a
trailing backslash continues a long line); the rest is generated from templates with a seeded
``random.Random`` so it is the same on every run.

Negatives (``spans == []``) are full of numbers that are not PII: order and tracking ids, prices,
times, dates, zip codes, last-four mentions, quantities, Luhn-invalid 16-digit strings.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

KINDS = ("phone", "email", "card", "ssn")


@dataclass(frozen=True)
class Example:
    text: str
    spans: list[tuple[str, str]] = field(default_factory=list)

    def gold(self) -> list[tuple[str, int, int]]:
        """(kind, start, end) of each labelled substring, searched left to right."""
        out = []
        pos = 0
        for kind, sub in self.spans:
            start = self.text.index(sub, pos)
            out.append((kind, start, start + len(sub)))
            pos = start + len(sub)
        return out


_TAG_RE = re.compile(r"<(phone|email|card|ssn)>(.*?)</\1>")


def _tagged(line: str) -> Example:
    spans = [(m.group(1), m.group(2)) for m in _TAG_RE.finditer(line)]
    return Example(_TAG_RE.sub(lambda m: m.group(2), line), spans)


# ------------------------------------------------------------------------------------------------
# Hand-written positives
# ------------------------------------------------------------------------------------------------

_PHONE_LINES = """
Yeah you can reach me at <phone>four one five, five five five, oh one three two</phone>.
My cell is <phone>415-555-0132</phone> if the call drops.
It's uh <phone>six five zero, two three nine, eight eight one four</phone>.
Call me back on <phone>2 1 2 5 5 5 0 1 9 8</phone> please.
the best number is <phone>312 five five five 0147</phone>
So that's <phone>seven one eight, double five, two, oh nine, three one</phone>?
My number is <phone>triple seven, two two four, six oh one eight</phone>.
Okay, the callback number is <phone>(646) 555-0178</phone>.
You can text me at <phone>+1 415 555 0132</phone> anytime.
I'm calling from London, my mobile is <phone>+44 20 7946 0958</phone>.
it's <phone>one eight hundred, five five five, oh one nine nine</phone>
My work line is <phone>503.555.0164</phone>.
Put down <phone>9175550123</phone> as the contact.
Number's <phone>eight oh eight, five five five, one two one two</phone>.
Sorry, let me repeat that, <phone>4 1 5, 5 5 5, 0 1 3 2</phone>.
my wife's number is <phone>555-0143</phone>
Can you call me at <phone>five five five, oh one six seven</phone>
I said seven zero three, not seven zero two. <phone>Seven zero three five five five zero one one nine</phone>.
<phone>2025550173</phone>, that's my cell.
Uh my number, it's, um, <phone>nine one seven, five five five, oh one two three</phone>.
Reach me on <phone>1-800-555-0199</phone> extension 42.
The number on file should be <phone>347 555 0111</phone>, can you update it to <phone>347 555 0122</phone>?
Yeah it's <phone>four-one-five, five-five-five, zero-one-three-two</phone>.
Her number is <phone>six one seven five five five zero one nine zero</phone>.
<phone>FOUR ONE FIVE FIVE FIVE FIVE ZERO ONE THREE TWO</phone>
It's <phone>415 555 01 32</phone>.
ok so call <phone>720 five five five zero one eight eight</phone> after six.
My number is <phone>415 555 0132</phone> and I'm available after 2.
you reached me at <phone>312-555-0198</phone> last time.
Try my husband, his cell is <phone>(773) 555-0156</phone>.
my phone number's <phone>two one two, five five five, nineteen eighty-four</phone>.
Call back number <phone>four oh four five five five oh one one two</phone>.
It's <phone>1 415 555 0132</phone>.
Can you send the code to <phone>213-555-0107</phone> instead?
The order is under my phone number, <phone>6175550144</phone>.
I've been waiting forty minutes, just call me at <phone>929 555 0183</phone>!
Text the tracking link to <phone>four one two, five five five, zero one seven seven</phone>.
Hi, this is Dana calling from <phone>415 555 0132</phone> about my order.
The phone on the account is <phone>two oh one, five five five, oh one nine one</phone>.
Just to confirm, that's <phone>four one five, five five five, oh one three two</phone>, correct?
I've given you my number three times! It's <phone>415 555 0132</phone>!
my cell, <phone>eight one eight, five five five, zero, one, four, four</phone>
It's <phone>six oh two, five five five, oh oh one nine</phone>, the two oh two is the old one.
Is <phone>(213) 555-0190</phone> still the best number to reach you?
Uh yeah, <phone>three one oh, five five five, oh one two six</phone>, that's my home phone.
The number I'm calling from, <phone>470 555 0117</phone>, you can use that one.
It's <phone>area code four one five, five five five, oh one three two</phone>.
Mobile is <phone>+1 (628) 555-0133</phone>.
Okay so it's <phone>nine four nine, five five five, zero one, uh, zero nine</phone>.
I'm at <phone>404.555.0188</phone> all day.
ring me on <phone>two one four, five five five, oh one five five</phone> and ask for Mike
Please don't call <phone>415-555-0132</phone> anymore, use <phone>415-555-0177</phone>.
The fax number is <phone>three one two, five five five, oh one nine nine</phone>.
You can reach the front desk at <phone>(503) 555-0100</phone> between 9 and 5.
Can you call my daughter? Her number is <phone>seven three two five five five oh one four six</phone>.
my number is <phone>555 0199</phone> and the area code is 415.
Yeah, <phone>double two five, five five five, oh one three one</phone>.
It's <phone>eight hundred, five five five, oh one one six</phone>.
The shop's line is <phone>1 (888) 555-0142</phone>, they're open till six.
That's <phone>4 1 5 5 5 5 0 1 3 2</phone>, four one five.
"""

_EMAIL_LINES = """
My email is <email>jane.doe@example.com</email> if that helps.
It's <email>john dot smith at gmail dot com</email>.
Send it to <email>j smith at example dot org</email> please.
<email>maria underscore lopez at outlook dot com</email>
yeah it's <email>jane at acme dot co dot uk</email>
My email address is <email>mike.t92@yahoo.com</email>.
it's <email>p dot nguyen at company dot net</email>
Uh, it's Robert, <email>R O B E R T, at hotmail dot com</email>.
you can email me at <email>sarah.connor@sky.net</email>
email is <email>d-a-v-i-d at gmail dot com</email>
Yes it's <email>kevin underscore b at icloud dot com</email>.
my work email is <email>a dot patel at mercy health dot org</email>
It's <email>info at bluesky plumbing dot com</email>, that's the business one.
The receipt should go to <email>tom at tomsbikes dot net</email>.
My email? It's <email>lisa.m.carter@gmail.com</email>.
contact is <email>billing@acme-corp.io</email>
<email>a-l-e-x at proton dot me</email>
It's <email>chris seventy two at yahoo dot com</email>.
<email>emily dot r at gmail dot com</email>, that's e m i l y.
I used my school one, <email>jdoe at stanford dot edu</email>.
<email>JANE DOT DOE AT EXAMPLE DOT COM</email>
Can you send the refund confirmation to <email>priya dot shah at gmail dot com</email>?
e-mail is <email>support@shop.example.co.uk</email>
I think it's <email>rachel at gmail.com</email>
yes, <email>brian@icloud dot com</email>
the account email is <email>tony dot stark at starkindustries dot com</email>
so it's <email>m dot garcia at outlook dot com</email>, garcia with a c.
It should be <email>sam underscore lee ninety at hotmail dot com</email>.
Oh it's <email>dave dash miller at comcast dot net</email>.
Write this down, <email>kim dot o dot park at yahoo dot com</email>.
I'm not getting the emails at <email>jenny.k@outlook.com</email>, can you check?
My husband's is <email>greg at thompson family dot us</email>.
The invoice went to <email>ap at northwind traders dot com</email> instead of me.
Yeah, <email>n dot okafor at gmail dot com</email>, that's N as in Nancy.
Update it to <email>carlos dot m at live dot com</email> please.
It's <email>bob underscore the underscore builder at aol dot com</email>, don't laugh.
<email>Olivia.Brown@Example.org</email> is my work address.
uh it's <email>tina two thousand at yahoo dot com</email>
My email is <email>first dot last at university dot edu</email>, the school one.
can you spell it? sure, <email>h e n r y at gmail dot com</email>.
"""

_CARD_LINES = """
The new card is <card>4111 1111 1111 1111</card> expiring in May.
Card number <card>four one one one, one one one one, one one one one, one one one one</card>.
It's <card>5555-5555-5555-4444</card>.
The full number is <card>4012888888881881</card>.
It's an Amex, <card>3782 822463 10005</card>.
<card>six zero one one, one one one one, one one one one, one one one seven</card>
My card number is <card>4242 4242 4242 4242</card>, exp oh four twenty six.
<card>five one oh five, one oh five one, oh five one oh, five one oh oh</card>
Okay it's <card>4000 0566 5566 5556</card>.
Card is <card>4111 1111 1111 1111</card> 0527 123
try the other one, <card>5200 8282 8282 8210</card>
It's <card>3714 496353 98431</card>.
it's <card>four two four two, four two four two, four two four two, four two four two</card>
uh <card>4111, 1111, 1111, 1111</card>
Card number: <card>6011 0009 9013 9424</card>
My debit card is <card>5454 5454 5454 5454</card>.
charge it to <card>forty one eleven, eleven eleven, eleven eleven, eleven eleven</card>
Use the Visa, <card>4111111111111111</card>, not the Mastercard.
<card>four zero one two, eight eight eight eight, eight eight eight eight, one eight eight one</card>, \
expiration twelve twenty seven.
I read it wrong, it's <card>5555 5555 5555 4444</card>, sorry.
Put it on <card>3782-822463-10005</card> please.
The number on the card is <card>four oh oh oh, oh five six six, five five six six, five five five six</card>.
Ok, <card>6011111111111117</card>, and the zip is 94107.
<card>4111 1111 1111 1111</card> oh five twenty seven
"""

_SSN_LINES = """
My social is <ssn>078-05-1120</ssn>.
social security number is <ssn>one two three, four five, six seven eight nine</ssn>
SSN <ssn>219-09-9999</ssn>
uh my social's <ssn>536 22 1847</ssn>
last four of my social, actually the whole thing is <ssn>five three six, two two, one eight four seven</ssn>
it's <ssn>123456789</ssn>, that's my social
I need your SSN for verification. Sure, <ssn>401 22 9137</ssn>.
my social security is <ssn>four oh one, two two, nine one three seven</ssn>
s s n is <ssn>372-44-1029</ssn>
The SSN on file is <ssn>5 4 3 2 1 6 7 8 9</ssn>
ss number <ssn>601-33-8812</ssn>
My social security number is <ssn>287-65-4321</ssn>.
Social? Yeah, <ssn>two eight seven, six five, four three two one</ssn>.
For the credit check they need my social, it's <ssn>449 18 2203</ssn>.
<ssn>078-05-1120</ssn> is the social on the account.
The social is <ssn>seven seven one, oh four, two two eight three</ssn>.
Why do you need my social? Fine, <ssn>665-23-8841</ssn>.
"""

_MIXED_LINES = """
My email is <email>jsmith@example.com</email> and my cell is <phone>415-555-0132</phone>.
Card <card>4111 1111 1111 1111</card> and call me on <phone>415 555 0132</phone> if it fails.
<ssn>123-45-6789</ssn>, <phone>415-555-0132</phone>
Name's Ana, <phone>four one five, five five five, oh one four one</phone>, \
and email <email>ana dot ruiz at gmail dot com</email>.
My social is <ssn>078-05-1120</ssn> and the card is <card>5555 5555 5555 4444</card>.
Order 58213, callback <phone>312-555-0147</phone>.
Send the receipt to <email>lee@example.net</email>, \
and my number is <phone>six oh two, five five five, oh one three eight</phone>.
I paid $49.99 with <card>4242424242424242</card> on March 4th.
"""

# ------------------------------------------------------------------------------------------------
# Hand-written negatives
# ------------------------------------------------------------------------------------------------

_NEGATIVE_LINES = """
Hi, I'm calling about order 58213, it never showed up.
My order number is A-10442.
It says order #4471-22 on the receipt.
I was charged $129.99 twice this month.
It's forty nine ninety nine a month, right?
The technician is coming at 3:30.
Can we do two thirty pm instead?
It was delivered March 4th 2024.
The invoice is dated 12/05/2024.
I ordered 2 items and only got one.
There were three boxes on the porch.
My zip code is 94107.
It's the card ending in 4242.
The tracking number is 1Z999AA10123456784.
Your order number is 5821344219.
Confirmation number 8842 1093 77.
The reference number is 7734 2210 99, write that down.
Order number is five eight two one three four four two one nine.
Your case number is 0 0 4 5 1 8 8 3 2 1.
I typed 4111 1111 1111 1112 and it got declined.
The card number I have here is 4532 7788 1234 5678 but the system says it's invalid.
Account number 4417 2290.
The account ending in 8812 is the one.
It was $1,299.99 plus tax.
The refund of $45.67 will post in 5 to 7 business days.
I'll be there at noon.
Look at that, it finally loaded.
We're at the store right now.
Meet me at the main entrance at 6.
I've called 3 times in 2 weeks.
The price went from 19.99 to 24.99 overnight.
I was on hold from 2:15 to 3:40!
Room 1204, building 7.
The promo code is SAVE20.
Model number X-2000, the silver one.
It was 2019 or 2020 I think.
I'm 42 years old, I know how to plug in a router.
It's about 5 feet by 3 feet.
Ticket 448812 was closed without a reply.
Send it to PO box 4471.
Extension 2234, ask for billing.
My flight is UA 1549 at 6:45 am.
The last four of my social are 6789.
I have three kids and two dogs, so yeah, it's loud.
Give me one second, two seconds, okay I'm back.
one more thing, can I change the delivery date?
It's been six to eight weeks.
We're open from 9 to 5, Monday through Friday.
We shipped 3 of your 5 items on the 14th.
The tracking number is 9400 1000 0000 0000 0000 00.
Invoice 2024-00871 is still unpaid.
My address is 1600 Pennsylvania Avenue.
The total was 1,234.56 with shipping.
We have 10,000 units in the warehouse.
It cost 2,499 dollars, that's a lot for a couch.
The confirmation code is X7K2291.
Order numbers 58213 and 58214 both came damaged.
Ticket number 4415 5501 32 is the one I opened last week.
Account 5821 3344 1902, under my wife's name.
The serial is 4155550132 on the sticker.
It was quarter past ten when I called.
The IP address is 192.168.1.1.
We're on version 10.2.3 of the app.
If it's an emergency call 911.
I ordered 12 boxes of 24.
My zip is nine four one oh seven.
The card ending in four two four two, yeah that one.
It's March fourth, twenty twenty four.
They said between two and four pm.
I was born in nineteen eighty five.
The batch number is 2024 0315 77.
Press 1 for billing, 2 for support.
My order number I think is 7781 2290 45.
The item number is 884 221 0193.
I paid 49.99, 59.99 and 69.99 for the three of them.
Your claim number is two two eight, four four one, nine oh three seven.
Delivery window is 10 to 2 tomorrow.
It's apartment 4B, second floor.
The box was 24 by 18 by 12 inches.
I got it on sale for thirty nine ninety nine.
Patient ID 4155 5501 32 at the front desk.
Tracking says 7 packages, 2 delivered.
Your ticket is 11-22-33-44.
The member ID is 8841 2093 776.
My policy number is 55 1029 3384.
You can track it at ups dot com.
Just go to our website at acme dot com and click returns.
Check the status at www dot acme dot com slash orders.
I bought it at target dot com last week.
He works at amazon dot com, in logistics.
The meeting is at noon dot dot dot whatever.
I'll look at it tonight.
She's at home, she'll call you back.
The order was placed at 11:52 pm on 11/28.
Is it 5 or 6 business days?
Your routing number is 121000248.
The amount due is 1,050 dollars and 25 cents.
My PIN is 4471.
Thanks for calling Acme support, my name is Jordan, how can I help?
I'm so frustrated, this is the fourth time I've called!
Can I speak to a manager please?
The package was supposed to arrive on the twenty first.
I need two of the large ones and three of the small.
Your balance is $0.00, you're all set.
Order 1004-5589-2231 shows as returned.
The model is the 2023 version, 256 gigabytes.
It weighs 12.5 pounds.
Call volume is high, the wait is about 15 minutes.
Your appointment is Tuesday at 10:15, confirmation code R7-22.
Please hold for one moment.
"""

# Second batch, written after the first measurement to probe phrasings the first lines did not cover.
_MORE_LINES = """
my number is <phone>415 555 0132</phone> extension 12
The number is <phone>415-555-0132</phone> ext. 204
It's <phone>415, 555, 0132</phone>.
<phone>four one five. five five five. zero one three two</phone>.
<phone>Four one five five five five. Zero one three two</phone>.
you can call me on my cell at <phone>four one five five five five zero one three two</phone> \
or my work at <phone>six five zero five five five zero one nine nine</phone>
can I get a call back at <phone>415 555 0132</phone>?
It's <phone>415-5550-132</phone>.
Please call <phone>1 800 555 0199</phone>.
It's <phone>seven seven three, five five five, zero, one, five, six</phone>.
My cell phone number is <phone>312 555 0198</phone> and my home is <phone>312 555 0143</phone>.
Call me at <phone>nine one seven. Five five five. Zero one two three</phone>.
My number, um, let me think, it's <phone>4155550132</phone>.
I don't have the order number but my phone number is <phone>2065550123</phone>.
Yeah, <phone>415. 555. 0132</phone>.
It's <phone>2 0 6, 5 5 5, 0 1 2 3</phone>.
If you need anything, my direct line is <phone>628.555.0147</phone>.
The number they gave me was <phone>1-888-555-0123</phone> but it just rings.
my number is <phone>four one five dash five five five dash oh one three two</phone>
It's <email>john.smith at gmail.com</email>
My email is <email>J-O-H-N dot S-M-I-T-H at yahoo dot com</email>.
it's mark, <email>m-a-r-k, at markscars dot com</email>
email address: <email>kelly.b@example.com</email>
Could you send that to my wife, at <email>linda dot h at gmail dot com</email>?
It's <email>patrick underscore o underscore two at hotmail dot com</email>.
So that's Steve <email>S T E V E at Comcast dot net</email>.
It's the same as my username, <email>dr underscore who at gallifrey dot co dot uk</email>.
sure it's <email>w dot chen eighty eight at gmail dot com</email>
please use <email>billing at northwind dot com</email> for invoices
The card number is <card>4111 1111 1111 1111</card>, expiration 05/27, and the CVV is 123.
<card>four one one one, one one one one, one one one one, one one one one</card>, expires oh five twenty seven
It's a Mastercard, <card>5555 5555 5555 4444</card>.
card number <card>4111 1111 1111 1111</card> security code 123
my card is <card>forty-one eleven, eleven eleven, eleven eleven, eleven eleven</card>
<card>4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1</card>
The card is <card>4111-1111-1111-1111</card> exp 0527.
card: <card>378282246310005</card>
The last 4 are 6789 but the full social is <ssn>123 45 6789</ssn>.
Social security number: <ssn>078051120</ssn>
It's <ssn>078 05 1120</ssn>.
ssn is <ssn>one two three dash four five dash six seven eight nine</ssn>
My social security number is <ssn>five four three, two one, six seven eight nine</ssn>.
The order total is 415.55 with tax.
My order number is 4155550132.
Can you check order 4155550132?
I have order number 1 2 3 4 5 6 7 8 9 0.
The reference is REF-4155550132.
It's 10 am to 4 pm.
Somewhere around 2,000 dollars.
From 1:00 to 3:00 on Saturday.
The code is 4 4 7 1.
The date is 2024-03-04.
It shipped 03.04.2024.
I'm at 5th and Main.
The office is at 555 Market Street.
His badge number was 4471 2290 88.
Order 12345, order 12346, order 12347, all late.
It's 1-2-3-4-5-6-7.
We sold 1,500,000 units last year.
My account number is 1234567890.
The tracking number is 420 94107 9205 5000 1234 5678 90.
Your confirmation is 4 8 8 2 1 0 3 9 7 7.
The VIN is 1HGCM82633A004352.
my number is <phone>415-555-0132x22</phone>
It's <phone>(415)-555-0132</phone>.
<phone>+1-415-555-0132</phone>, that's the cell.
my email is <email>jane+orders@example.com</email>
it's <email>jane plus orders at example dot com</email>
social <ssn>123 - 45 - 6789</ssn>
Reach me at <phone>415 555 0132</phone> or at <email>john dot smith at gmail dot com</email>, whichever.
The card number is 4111 1111 1111 111, is that too short?
I'm at 415 Main Street, the blue door.
I see three of them: 58213, 58214 and 60012.
Your new balance is 1,204 dollars and your next payment of 89 is due on the 15th.
The prices are 12, 15, 20, 25 and 30 dollars.
Rooms 101, 102, 103 and 104 are booked.
I've been a customer since 2008, that's 16 years.
Item 4471, qty 2, price 19.99.
That's 1 2 3 4 5, like the luggage code.
Invoice number 2024 0817 5521.
Gate B 22, seat 14 C.
Version 2.4.1 build 20240517.
Product code 8 8 4 2 1 0 9 3 7 7.
The UPC is 0 12345 67890 5.
The ISBN is 978-3-16-148410-0.
My license plate is 7ABC123.
Claim 2024-11-0042 was denied.
It happened at 10:42:15.
Seats 14, 15, and 16.
Your one time passcode is 4 8 2 9 1 7.
The verification code is 5521 449.
Press 1, then 2, then 3.
It was twelve oh five twenty twenty four.
Delivery was oh three oh four twenty twenty four.
I was looking at amazon dot com and the price was lower.
I placed the order at acme dot com last Tuesday.
Sign in at acme dot com slash account.
You can find it at help dot acme dot com.
The form is at forms dot irs dot gov.
Returns are processed at returns dot acme dot com.
We met at starbucks on fifth.
"""

# ------------------------------------------------------------------------------------------------
# Generated examples (templates x values)
# ------------------------------------------------------------------------------------------------

_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_REPEAT_WORDS = {2: "double", 3: "triple"}


def _spoken(digits: str, rng: random.Random, zero: str | None = None) -> list[str]:
    """Each digit as a word; zero as "zero" or "oh"; sometimes "double"/"triple" for repeats."""
    zero = zero or rng.choice(["zero", "oh"])
    words = []
    i = 0
    while i < len(digits):
        d = digits[i]
        k = 1
        while i + k < len(digits) and digits[i + k] == d and k < 3:
            k += 1
        word = zero if d == "0" else _WORDS[int(d)]
        if k > 1 and rng.random() < 0.5:
            words.append(f"{_REPEAT_WORDS[k]} {word}")
        else:
            words.extend([word] * k)
        i += k
    return words


def _spoken_groups(digits: str, groups: list[int], rng: random.Random, sep: str) -> str:
    zero = rng.choice(["zero", "oh"])
    out = []
    pos = 0
    for g in groups:
        out.append(" ".join(_spoken(digits[pos : pos + g], rng, zero)))
        pos += g
    return sep.join(out)


def _random_phone(rng: random.Random) -> str:
    area = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    exchange = rng.choice(["555", f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"])
    return area + exchange + f"{rng.randint(0, 9999):04d}"


def _render_phone(d: str, rng: random.Random) -> str:
    a, b, c = d[:3], d[3:6], d[6:]
    form = rng.randrange(10)
    if form == 0:
        return f"({a}) {b}-{c}"
    if form == 1:
        return f"{a}-{b}-{c}"
    if form == 2:
        return f"{a}.{b}.{c}"
    if form == 3:
        return f"+1 {a} {b} {c}"
    if form == 4:
        return d
    if form == 5:
        return _spoken_groups(d, [3, 3, 4], rng, ", ")
    if form == 6:
        return _spoken_groups(d, [3, 3, 4], rng, " ")
    if form == 7:
        return " ".join(d)
    if form == 8:
        return f"{a} {' '.join(_spoken(b, rng))} {c}"
    return f"1 {a} {b} {c}"


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        candidate = body + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            n = int(ch) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def _render_card(d: str, rng: random.Random) -> str:
    groups = [4, 6, 5] if len(d) == 15 else [4, 4, 4, 4]
    parts = []
    pos = 0
    for g in groups:
        parts.append(d[pos : pos + g])
        pos += g
    form = rng.randrange(6)
    if form == 0:
        return " ".join(parts)
    if form == 1:
        return "-".join(parts)
    if form == 2:
        return d
    if form == 3:
        return _spoken_groups(d, groups, rng, ", ")
    if form == 4:
        return _spoken_groups(d, groups, rng, " ")
    return ", ".join(parts)


def _random_ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            return f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def _render_ssn(d: str, rng: random.Random) -> str:
    form = rng.randrange(5)
    if form == 0:
        return f"{d[:3]}-{d[3:5]}-{d[5:]}"
    if form == 1:
        return f"{d[:3]} {d[3:5]} {d[5:]}"
    if form == 2:
        return _spoken_groups(d, [3, 2, 4], rng, ", ")
    if form == 3:
        return " ".join(_spoken(d, rng))
    return d


_FIRST = [
    "john",
    "maria",
    "wei",
    "aisha",
    "tom",
    "priya",
    "carlos",
    "emma",
    "dmitri",
    "fatima",
    "liam",
    "sofia",
]
_LAST = ["smith", "lopez", "chen", "khan", "baker", "patel", "silva", "jones", "ivanov", "ali", "murphy"]
_DOMAINS = [("gmail", "com"), ("yahoo", "com"), ("outlook", "com"), ("example", "org"), ("acme", "io")]
_DOMAINS += [("comcast", "net"), ("school", "edu"), ("mail", "co dot uk"), ("proton", "me")]


def _render_email(rng: random.Random) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    host, tld = rng.choice(_DOMAINS)
    form = rng.randrange(6)
    if form == 0:
        return f"{first}.{last}@{host}.{tld.replace(' dot ', '.')}"
    if form == 1:
        return f"{first} dot {last} at {host} dot {tld}"
    if form == 2:
        return f"{first[0]} {last} at {host} dot {tld}"
    if form == 3:
        return f"{first} underscore {last} at {host} dot {tld}"
    if form == 4:
        return f"{first}{last}{rng.randint(1, 99)} at {host} dot {tld}"
    return f"{first} at {host} dot {tld}"


_PHONE_TEMPLATES = [
    "My number is {x}.",
    "You can reach me at {x}, anytime after noon.",
    "Yeah it's {x}.",
    "Call me back on {x} please.",
    "The best callback number is {x}.",
    "{x}, that's my cell.",
    "Could you text me at {x} when it ships?",
    "The phone number on the account is {x}.",
    "Sorry, it's {x}, I think I said it wrong before.",
    "Okay, and a good number for you? Uh, {x}.",
]
_EMAIL_TEMPLATES = [
    "My email is {x}.",
    "Send it to {x} please.",
    "It's {x}.",
    "Can you email the receipt to {x}?",
    "Yeah the email on file should be {x}.",
    "Oh, it's {x}, sorry.",
]
_CARD_TEMPLATES = [
    "The card number is {x}.",
    "Okay it's {x}, expiration oh four twenty six.",
    "Charge it to {x}.",
    "My Visa is {x}.",
    "Let me read it, {x}.",
    "It's {x}, and the security code is on the back.",
]
_SSN_TEMPLATES = [
    "My social is {x}.",
    "Social security number, {x}.",
    "The SSN is {x}.",
    "For the verification, my social security number is {x}.",
    "{x}, that's my social.",
]


def _spoken_price(rng: random.Random) -> str:
    tens = ["nineteen", "twenty nine", "thirty nine", "forty nine", "fifty nine", "ninety nine"]
    return f"{rng.choice(tens)} {rng.choice(['ninety nine', 'ninety five', 'fifty'])}"


def _non_luhn16(rng: random.Random) -> str:
    valid = _luhn_complete(rng.choice(["4", "5"]), 16, rng)
    return valid[:-1] + str((int(valid[-1]) + rng.randint(1, 9)) % 10)


def _negative_lines(rng: random.Random) -> list[str]:
    months = ["January", "March", "June", "August", "October", "December"]
    out = []
    for _ in range(6):
        out.append(f"My order number is {rng.randint(10000, 99999999)}.")
        out.append(f"Order number {rng.randint(1000000000, 9999999999)} hasn't shipped yet.")
        out.append(
            f"I was charged ${rng.randint(5, 999)}.{rng.randint(0, 99):02d} on the {rng.randint(2, 28)}th."
        )
        out.append(f"The appointment is at {rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])} on "
                   f"{rng.choice(months)} {rng.randint(1, 28)}.")  # fmt: skip
        out.append(
            f"It was delivered on {rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/20{rng.randint(19, 25)}."
        )
        out.append(f"Zip code is {rng.randint(10000, 99999)}.")
        out.append(f"Is that the card ending in {rng.randint(1000, 9999)}?")
        out.append(f"I need {rng.randint(2, 40)} more boxes by Friday.")
        out.append(f"The total came to {_spoken_price(rng)}.")
        out.append(
            f"Your confirmation number is {' '.join(_spoken(str(rng.randint(10**9, 10**10 - 1)), rng))}."
        )
        nl = _non_luhn16(rng)
        out.append(f"I think I typed {nl[:4]} {nl[4:8]} {nl[8:12]} {nl[12:]} wrong, it keeps failing.")
    return out


def _generated(rng: random.Random) -> list[Example]:
    out = []
    for _ in range(36):
        x = _render_phone(_random_phone(rng), rng)
        out.append(Example(rng.choice(_PHONE_TEMPLATES).format(x=x), [("phone", x)]))
    for _ in range(30):
        x = _render_email(rng)
        out.append(Example(rng.choice(_EMAIL_TEMPLATES).format(x=x), [("email", x)]))
    for _ in range(30):
        prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("6011", 16), ("37", 15), ("34", 15)])
        x = _render_card(_luhn_complete(prefix, length, rng), rng)
        out.append(Example(rng.choice(_CARD_TEMPLATES).format(x=x), [("card", x)]))
    for _ in range(30):
        x = _render_ssn(_random_ssn(rng), rng)
        out.append(Example(rng.choice(_SSN_TEMPLATES).format(x=x), [("ssn", x)]))
    out.extend(Example(line) for line in _negative_lines(rng))
    return out


def _lines(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


_HAND_WRITTEN = (
    _PHONE_LINES,
    _EMAIL_LINES,
    _CARD_LINES,
    _SSN_LINES,
    _MIXED_LINES,
    _NEGATIVE_LINES,
    _MORE_LINES,
)


def build_corpus(seed: int = 20241124) -> list[Example]:
    hand = [_tagged(line) for block in _HAND_WRITTEN for line in _lines(block)]
    return hand + _generated(random.Random(seed))


CORPUS: list[Example] = build_corpus()
