package engine

import (
	"math"
	"slices"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Geo searches that store (geo.c georadiusGeneric): GEORADIUS and
// GEORADIUSBYMEMBER with STORE / STOREDIST, and GEOSEARCHSTORE. Without a
// store key GEORADIUS* only reply, so the engine checks them and does
// nothing.
//
// Redis scans the members whose scores fall in the 9 geohash boxes around
// the centre and keeps those whose decoded position is within the shape;
// the boxes cover the shape, so the engine scans every member with a score in
// the 52-bit geohash range instead. COUNT n ANY keeps the first n matches in
// Redis's box scan order, which the engine does not reproduce: it fails with
// an *UnsupportedError when more than n members match. With COUNT (no ANY)
// the n nearest are kept; members at exactly the same distance across the
// cut are ordered by qsort in Redis, bytewise here.

// geoEarthRadius is EARTH_RADIUS_IN_METERS (geohash_helper.c).
const geoEarthRadius = 6372797.560856

// Flags of geoRadius: the command's form.
const (
	geoRadiusMember = 1 << iota // GEORADIUSBYMEMBER
	geoSearch                   // GEOSEARCHSTORE
)

func registerGeo() {
	register("georadius", -6, func(e *Engine, a [][]byte) error { return e.geoRadius(a, 1, 0) })
	register("georadiusbymember", -5, func(e *Engine, a [][]byte) error { return e.geoRadius(a, 1, geoRadiusMember) })
	register("geosearchstore", -8, func(e *Engine, a [][]byte) error { return e.geoRadius(a, 2, geoSearch) })
}

type geoShape struct {
	box           bool
	x, y          float64 // centre longitude, latitude
	radius        float64
	width, height float64
	conversion    float64
}

// geoDecode is decodeGeohash: the centre of the 26-step cell of score,
// clamped to the valid range.
func geoDecode(score float64) (float64, float64) {
	bits := uint64(score)
	sep := deinterleave64(bits)
	ilat, ilon := uint32(sep), uint32(sep>>32)
	latScale := geoLatMax - geoLatMin
	longScale := float64(geoLongMax - geoLongMin)
	latMin := geoLatMin + (float64(ilat)*1.0/(1<<geoStep))*latScale
	latMax := geoLatMin + (float64(uint64(ilat)+1)*1.0/(1<<geoStep))*latScale
	lonMin := geoLongMin + (float64(ilon)*1.0/(1<<geoStep))*longScale
	lonMax := geoLongMin + (float64(uint64(ilon)+1)*1.0/(1<<geoStep))*longScale
	x := (lonMin + lonMax) / 2
	x = min(max(x, geoLongMin), geoLongMax)
	y := (latMin + latMax) / 2
	y = min(max(y, geoLatMin), geoLatMax)
	return x, y
}

func deinterleave64(v uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
		0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := v, v>>1
	for i := range b {
		x = (x | x>>s[i]) & b[i]
		y = (y | y>>s[i]) & b[i]
	}
	return x | y<<32
}

// piDouble is M_PI as a double: C's M_PI/180.0 rounds twice.
var piDouble = math.Pi

func degRad(d float64) float64 { return d * (piDouble / 180.0) }

func geoLatDistance(lat1, lat2 float64) float64 {
	return geoEarthRadius * math.Abs(degRad(lat2)-degRad(lat1))
}

// geoDistance is geohashGetDistance (haversine).
func geoDistance(lon1, lat1, lon2, lat2 float64) float64 {
	v := crSin((degRad(lon2) - degRad(lon1)) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := crSin((lat2r - lat1r) / 2)
	a := u*u + crCos(lat1r)*crCos(lat2r)*v*v
	return 2.0 * geoEarthRadius * crAsin(math.Sqrt(a))
}

// within is geoWithinShape for a decoded point.
func (s *geoShape) within(x, y float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.x, s.y, x, y)
		return d, d <= s.radius*s.conversion
	}
	if geoLatDistance(y, s.y) > s.height*s.conversion/2 {
		return 0, false
	}
	if geoDistance(x, y, s.x, y) > s.width*s.conversion/2 {
		return 0, false
	}
	return geoDistance(s.x, s.y, x, y), true
}

func geoUnit(b []byte) (float64, error) {
	switch {
	case is(b, "M"):
		return 1, nil
	case is(b, "KM"):
		return 1000, nil
	case is(b, "FT"):
		return 0.3048, nil
	case is(b, "MI"):
		return 1609.34, nil
	}
	return 0, &Error{"ERR unsupported unit provided. please use M, KM, FT, MI"}
}

func geoLonLat(a [][]byte) (float64, float64, error) {
	x, ok := parseFloat(a[0])
	if !ok {
		return 0, 0, ErrNotFloat
	}
	y, ok := parseFloat(a[1])
	if !ok {
		return 0, 0, ErrNotFloat
	}
	if x < geoLongMin || x > geoLongMax || y < geoLatMin || y > geoLatMax {
		return 0, 0, errorf("ERR invalid longitude,latitude pair %s,%s", cFixed6(x), cFixed6(y))
	}
	return x, y, nil
}

func geoFloat(b []byte, msg string) (float64, error) {
	f, ok := parseFloat(b)
	if !ok {
		return 0, &Error{"ERR " + msg}
	}
	return f, nil
}

func (s *geoShape) distance(a [][]byte) (err error) {
	if s.radius, err = geoFloat(a[0], "need numeric radius"); err != nil {
		return err
	}
	if s.radius < 0 {
		return &Error{"ERR radius cannot be negative"}
	}
	s.conversion, err = geoUnit(a[1])
	return err
}

func (s *geoShape) fromMember(o *object, m []byte) error {
	score, ok := o.zset.score(m)
	if !ok {
		return &Error{"ERR could not decode requested zset member"}
	}
	s.x, s.y = geoDecode(score)
	return nil
}

func (e *Engine) geoRadius(a [][]byte, src int, flags int) error {
	db := e.db()
	o, err := e.lookupKind(db, a[src], rdb.KindZSet)
	if err != nil {
		return err
	}
	var shape geoShape
	base := 2
	var store []byte
	switch {
	case flags&geoSearch != 0:
		base = 3
		store = a[1]
	case flags&geoRadiusMember != 0:
		base = 5
		if o != nil {
			if err := shape.fromMember(o, a[2]); err != nil {
				return err
			}
			if err := shape.distance(a[3:5]); err != nil {
				return err
			}
		}
	default:
		base = 6
		if shape.x, shape.y, err = geoLonLat(a[2:4]); err != nil {
			return err
		}
		if err := shape.distance(a[4:6]); err != nil {
			return err
		}
	}
	var withAny, storeDist, fromMember, fromLoc, byRadius, byBox, with bool
	desc, sorted := false, false
	count := int64(0)
	rest := a[base:]
	for i := 0; i < len(rest); i++ {
		left := len(rest) - i - 1
		arg := rest[i]
		search := flags&geoSearch != 0
		switch {
		case is(arg, "WITHDIST"), is(arg, "WITHHASH"), is(arg, "WITHCOORD"):
			with = true
		case is(arg, "ANY"):
			withAny = true
		case is(arg, "ASC"):
			sorted, desc = true, false
		case is(arg, "DESC"):
			sorted, desc = true, true
		case is(arg, "COUNT") && left >= 1:
			if count, err = argInt(rest[i+1]); err != nil {
				return err
			}
			if count <= 0 {
				return &Error{"ERR COUNT must be > 0"}
			}
			i++
		case (is(arg, "STORE") || is(arg, "STOREDIST")) && left >= 1 && !search:
			store, storeDist = rest[i+1], is(arg, "STOREDIST")
			i++
		case is(arg, "STOREDIST") && search:
			storeDist = true
		case is(arg, "FROMMEMBER") && left >= 1 && search && !fromLoc:
			if o != nil {
				if err := shape.fromMember(o, rest[i+1]); err != nil {
					return err
				}
			}
			fromMember = true
			i++
		case is(arg, "FROMLONLAT") && left >= 2 && search && !fromMember:
			if shape.x, shape.y, err = geoLonLat(rest[i+1 : i+3]); err != nil {
				return err
			}
			fromLoc = true
			i += 2
		case is(arg, "BYRADIUS") && left >= 2 && search && !byBox:
			if err := shape.distance(rest[i+1 : i+3]); err != nil {
				return err
			}
			shape.box, byRadius = false, true
			i += 2
		case is(arg, "BYBOX") && left >= 3 && search && !byRadius:
			if shape.width, err = geoFloat(rest[i+1], "need numeric width"); err != nil {
				return err
			}
			if shape.height, err = geoFloat(rest[i+2], "need numeric height"); err != nil {
				return err
			}
			if shape.height < 0 || shape.width < 0 {
				return &Error{"ERR height or width cannot be negative"}
			}
			if shape.conversion, err = geoUnit(rest[i+3]); err != nil {
				return err
			}
			shape.box, byBox = true, true
			i += 3
		default:
			return ErrSyntax
		}
	}
	if store != nil && with {
		if flags&geoSearch != 0 {
			return &Error{"ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"}
		}
		return &Error{"ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"}
	}
	if flags&geoSearch != 0 && !fromMember && !fromLoc {
		return errorf("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", a[0])
	}
	if flags&geoSearch != 0 && !byRadius && !byBox {
		return errorf("ERR exactly one of BYRADIUS and BYBOX can be specified for %s", a[0])
	}
	if withAny && count == 0 {
		return &Error{"ERR the ANY argument requires COUNT argument"}
	}
	if store == nil {
		return nil
	}
	if o == nil {
		e.del(db, store)
		return nil
	}
	type point struct {
		member []byte
		score  float64
		dist   float64
	}
	var pts []point
	o.zset.o.each(0, func(x zel) bool {
		if !(x.score >= 0 && x.score < 1<<(2*geoStep)) {
			return true // outside every geohash box
		}
		lon, lat := geoDecode(x.score)
		if d, ok := shape.within(lon, lat); ok {
			pts = append(pts, point{x.member, x.score, d})
		}
		return true
	})
	if withAny && int64(len(pts)) > count {
		return &UnsupportedError{What: "GEO search COUNT ANY matching more members than COUNT (Redis keeps the first found in its geohash box order)"}
	}
	if count != 0 && !sorted && !withAny {
		sorted = true
	}
	if sorted {
		slices.SortStableFunc(pts, func(p, q point) int {
			c := 0
			if p.dist > q.dist {
				c = 1
			} else if p.dist < q.dist {
				c = -1
			}
			if desc {
				return -c
			}
			return c
		})
	}
	if count != 0 && int64(len(pts)) > count {
		pts = pts[:count]
	}
	if len(pts) == 0 {
		e.del(db, store)
		return nil
	}
	// georadiusGeneric builds a skiplist, then converts it when it fits a
	// listpack.
	out := newZSet()
	out.zset.toSkiplist()
	for _, p := range pts {
		score := p.score
		if storeDist {
			score = p.dist / shape.conversion
		}
		out.zset.set(p.member, score)
	}
	if out.zset.fitsListpack() {
		out.zset.toListpack()
	}
	e.setKey(db, store, out, false)
	return nil
}

// Correctly rounded sin, cos and asin. glibc's are correctly rounded (in all
// but the rarest cases) and Go's math package's are not always, and a one
// ulp difference in a stored distance (STOREDIST) changes the stored score.
// The engine evaluates them in double-double arithmetic and rounds once.

type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	s.lo += a.lo + b.lo
	return twoSum(s.hi, s.lo)
}

func ddMul(a, b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p)
	e += a.hi*b.lo + a.lo*b.hi
	return twoSum(p, e)
}

func ddDivF(a dd, b float64) dd {
	q1 := a.hi / b
	p := dd{q1 * b, math.FMA(q1, b, -q1*b)}
	r := ddAdd(a, dd{-p.hi, -p.lo})
	q2 := r.hi / b
	return twoSum(q1, q2)
}

// sinCosDD is the Taylor series of sin and cos at x (|x| <= 2).
func sinCosDD(x float64) (dd, dd) {
	xx := ddMul(dd{x, 0}, dd{x, 0})
	sin, cos := dd{x, 0}, dd{1, 0}
	st, ct := dd{x, 0}, dd{1, 0}
	for k := 1; k < 30; k++ {
		st = ddDivF(ddMul(st, xx), -float64((2*k)*(2*k+1)))
		ct = ddDivF(ddMul(ct, xx), -float64((2*k-1)*(2*k)))
		sin, cos = ddAdd(sin, st), ddAdd(cos, ct)
		if math.Abs(st.hi) < 1e-40 && math.Abs(ct.hi) < 1e-40 {
			break
		}
	}
	return sin, cos
}

func crSin(x float64) float64 {
	if math.Abs(x) > 2 || x == 0 {
		return math.Sin(x)
	}
	s, _ := sinCosDD(x)
	return s.hi + s.lo
}

func crCos(x float64) float64 {
	if math.Abs(x) > 2 {
		return math.Cos(x)
	}
	_, c := sinCosDD(x)
	return c.hi + c.lo
}

// crAsin refines Go's asin by one Newton step in double-double.
func crAsin(s float64) float64 {
	y := math.Asin(s)
	if s == 0 || math.Abs(s) >= 1 || math.IsNaN(y) {
		return y
	}
	sy, cy := sinCosDD(y)
	diff := ddAdd(dd{s, 0}, dd{-sy.hi, -sy.lo})
	delta := diff.hi / (cy.hi + cy.lo)
	r := twoSum(y, delta)
	return r.hi + r.lo
}
