package messaging

import (
	"strings"
	"unicode/utf16"
)

// SMS encodings.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet; gsmExtended are the
// characters that take an escape plus one septet (two in all).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)

// SMSSegments tells how an SMS text is encoded and how many parts it takes:
// GSM-7 holds 160 septets in one part and 153 per part of a longer message;
// any other character makes the whole text UCS-2, 70 UTF-16 units in one
// part and 67 per part.
func SMSSegments(text string) (encoding string, segments int) {
	if text == "" {
		return GSM7, 0
	}
	septets, gsm := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtended, r):
			septets += 2
		default:
			gsm = false
		}
		if !gsm {
			break
		}
	}
	if gsm {
		if septets <= 160 {
			return GSM7, 1
		}
		return GSM7, (septets + 152) / 153
	}
	units := len(utf16.Encode([]rune(text)))
	if units <= 70 {
		return UCS2, 1
	}
	return UCS2, (units + 66) / 67
}

// gsmFolds are the common characters outside GSM-7 with a look-alike
// inside it: folding them keeps a French or Spanish SMS in GSM-7 (160
// characters a part) instead of UCS-2 (70), as providers' "smart encoding" does.
var gsmFolds = strings.NewReplacer(
	"\u00a0", " ", "\u202f", " ", "\u2009", " ", "\u2007", " ",
	"‘", "'", "’", "'", "‚", "'", "“", "\"", "”", "\"", "„", "\"", "«", "\"", "»", "\"",
	"–", "-", "—", "-", "‐", "-", "…", "...",
	"á", "a", "í", "i", "ó", "o", "ú", "u", "â", "a", "ê", "e", "î", "i", "ô", "o", "û", "u", "ë", "e", "ï", "i", "ç", "c",
	"Á", "A", "Í", "I", "Ó", "O", "Ú", "U", "Â", "A", "Ê", "E", "Î", "I", "Ô", "O", "Û", "U", "È", "E", "Ë", "E", "Ï", "I", "À", "A",
	"œ", "oe", "Œ", "OE",
)

// FoldGSM returns text with look-alikes folded into GSM-7 when that makes
// the whole text GSM-7; otherwise (a name in Cyrillic, say) text unchanged.
func FoldGSM(text string) string {
	folded := gsmFolds.Replace(text)
	if enc, _ := SMSSegments(folded); enc == GSM7 {
		return folded
	}
	return text
}
