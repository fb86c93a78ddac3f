package main

import (
	"math"
	"strconv"
)

// The pages dataset: a web cache. Every key is a SET of a page fragment
// between 100 bytes and 2.4 KB: HTML blocks and JSON API responses built from
// templates, a vocabulary and numbers, which LZF compresses about as well as
// real markup (Redis stores most of them compressed), and a minority of
// opaque session tokens that do not compress. One key in ten has a TTL.
//
// It is the unfriendly case for a checker: nearly every value is an LZF
// string to decompress, and the values are too small for any per-value
// overhead to hide.

// Shares of the value kinds, in percent.
const (
	pagesHTML  = 50
	pagesJSON  = 40
	pagesToken = 10 // the rest
)

var pageWords = []string{
	"home", "garden", "kitchen", "outdoor", "lighting", "storage", "office", "chair",
	"table", "lamp", "shelf", "cabinet", "desk", "sofa", "rug", "mirror", "vase",
	"oak", "walnut", "steel", "linen", "cotton", "ceramic", "glass", "brass",
	"modern", "classic", "compact", "large", "small", "premium", "eco", "vintage",
	"black", "white", "grey", "blue", "green", "natural", "red", "sand",
	"sale", "new", "bestseller", "limited", "bundle", "set", "pack", "edition",
}

var pageCurrencies = []string{"EUR", "USD", "GBP", "SEK", "CHF"}

// pagesDataset writes SET commands for keys keys.
func (g *gen) pagesDataset(keys int64) {
	var key []byte
	for n := int64(0); n < keys; n++ {
		// Most fragments are small: the mean is about 360 bytes.
		size := 100 + int(2300*math.Pow(g.rng.Float64(), 8))
		var val []byte
		switch p := g.rng.IntN(100); {
		case p < pagesHTML:
			key = g.pageKey(append(key[:0], "cache:html:/"...), n)
			val = g.pageHTML(size)
		case p < pagesHTML+pagesJSON:
			key = g.pageKey(append(key[:0], "cache:api:/v2/"...), n)
			val = g.pageJSON(size)
		default:
			key = g.pageKey(append(key[:0], "cache:session:/"...), n)
			val = g.pageToken(100 + (size-100)/8)
		}
		g.setString(key, val, 10)
	}
	g.st.ByFamily["string"] = g.st.Payload
}

// pageKey appends the path of a cache key such as
// "cache:html:/garden/oak-lamp/1234" to its prefix b.
func (g *gen) pageKey(b []byte, n int64) []byte {
	b = append(b, g.pageWord()...)
	b = append(b, '/')
	b = append(b, g.pageWord()...)
	b = append(b, '-')
	b = append(b, g.pageWord()...)
	b = append(b, '/')
	return strconv.AppendInt(b, n, 10)
}

func (g *gen) pageWord() string { return pageWords[g.rng.IntN(len(pageWords))] }

// pageTitle appends two to four words.
func (g *gen) pageTitle(b []byte) []byte {
	for i := range 2 + g.rng.IntN(3) {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, g.pageWord()...)
	}
	return b
}

// pagePrice appends a price such as 129.95.
func (g *gen) pagePrice(b []byte) []byte {
	b = strconv.AppendInt(b, 1+g.rng.Int64N(999), 10)
	b = append(b, '.')
	c := g.rng.IntN(100)
	b = append(b, byte('0'+c/10), byte('0'+c%10))
	return b
}

// pageHTML returns n bytes of a product listing: article blocks repeated
// with different ids, titles and prices, cut at n bytes as a cache of page
// fragments would be.
func (g *gen) pageHTML(n int) []byte {
	b := append(g.tbuf[:0], "<section class=\"listing listing--grid\">\n<ul class=\"listing__items\">"...)
	for len(b) < n {
		id := g.rng.Int64N(1_000_000)
		b = append(b, "\n  <li class=\"card card--product\" data-id=\""...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, "\">\n    <a class=\"card__link\" href=\"/p/"...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '/')
		b = append(b, g.pageWord()...)
		b = append(b, '-')
		b = append(b, g.pageWord()...)
		b = append(b, "\">\n      <img class=\"card__image\" src=\"https://cdn.example.com/img/"...)
		b = strconv.AppendInt(b, id, 16)
		b = append(b, "-640.webp\" width=\"640\" height=\"480\" alt=\"\" loading=\"lazy\">\n      <h3 class=\"card__title\">"...)
		b = g.pageTitle(b)
		b = append(b, "</h3>\n    </a>\n    <div class=\"card__body\">\n      <span class=\"card__price\">"...)
		b = g.pagePrice(b)
		b = append(b, "</span>\n"...)
		if g.rng.IntN(3) == 0 {
			b = append(b, "      <span class=\"badge badge--"...)
			b = append(b, g.pageWord()...)
			b = append(b, "\">"...)
			b = append(b, g.pageWord()...)
			b = append(b, "</span>\n"...)
		}
		b = append(b, "      <p class=\"card__meta\">Free delivery &middot; In stock</p>\n      <button class=\"btn btn--primary\" data-action=\"cart#add\">Add to cart</button>\n    </div>\n  </li>"...)
	}
	g.tbuf = b
	return b[:n]
}

// pageJSON returns n bytes of an API response: an array of product objects
// whose URLs repeat their id and slug, as real ones do.
func (g *gen) pageJSON(n int) []byte {
	b := append(g.tbuf[:0], `{"page":`...)
	b = strconv.AppendInt(b, 1+g.rng.Int64N(50), 10)
	b = append(b, `,"per_page":24,"items":[`...)
	for first := true; len(b) < n; first = false {
		if !first {
			b = append(b, ',')
		}
		id := g.rng.Int64N(1_000_000)
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, `,"title":"`...)
		t := len(b)
		b = g.pageTitle(b)
		title := b[t:]
		b = append(b, `","url":"https://shop.example.com/p/`...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '/')
		s := len(b)
		b = append(b, title...)
		slug := b[s:]
		for i, c := range slug {
			if c == ' ' {
				slug[i] = '-'
			}
		}
		b = append(b, `","image":"https://cdn.example.com/img/`...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '/')
		b = append(b, b[s:s+len(slug)]...)
		b = append(b, `-640.webp","price":`...)
		b = g.pagePrice(b)
		b = append(b, `,"currency":"`...)
		b = append(b, pageCurrencies[g.rng.IntN(len(pageCurrencies))]...)
		b = append(b, `","available":true,"stock":`...)
		b = strconv.AppendInt(b, g.rng.Int64N(500), 10)
		b = append(b, `,"tags":["`...)
		b = append(b, g.pageWord()...)
		b = append(b, `","`...)
		b = append(b, g.pageWord()...)
		b = append(b, `"],"updated":"2026-`...)
		m, d := 1+g.rng.IntN(12), 1+g.rng.IntN(28)
		b = append(b, byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
		b = append(b, `T12:00:00Z"}`...)
	}
	g.tbuf = b
	return b[:n]
}

// pageToken returns n bytes of an opaque session blob: base64 of random
// bytes, which LZF cannot shrink (Redis stores it as a plain string).
func (g *gen) pageToken(n int) []byte {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := g.random(n)
	for i := range b {
		b[i] = b64[b[i]&63]
	}
	return b
}
