;; The CPU fallback's inner loops in WebAssembly SIMD (src/cpu-simd.ts drives them).
;;
;; Every loop works on eight adjacent float32 lanes at addresses p, p + stride, p + 2·stride, ...
;; below end, two lanes at a time: each pair loaded as 64 bits and widened to float64 before any
;; arithmetic, which is JavaScript's: float64 sums of x and of (x - mean)², and
;; y = (x - mean) · factor + offset rounded once to float32. So results equal those of
;; src/cpu-reference.ts's loops up to the order of the float64 additions. The loops are written
;; out in full: with small helper functions called from them, V8's code measured slower.
;;
;; write8Silu adds SiLU, the one epilogue computed here ($silu: its exp within 1e-14 of Math.exp's,
;; so results stay one float32 rounding from the JavaScript loops'); other epilogues stay there.
;;
;; Lanes of eight float64 live in memory, 64 bytes each. write8 reads the means, factors and
;; offsets of its eight lanes from one 192-byte block: means at +0, factors at +64, offsets at +128.
(module
  (memory (export "memory") 1)

  ;; Adds the 8 lanes at p, p + stride, ... below end to the float64 lanes at acc.
  (func $sum8 (export "sum8") (param $p i32) (param $end i32) (param $stride i32) (param $acc i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p)))))
        (local.set $a1 (f64x2.add (local.get $a1) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p)))))
        (local.set $a2 (f64x2.add (local.get $a2) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $p)))))
        (local.set $a3 (f64x2.add (local.get $a3) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $next)))
    (call $addLanes (local.get $acc) (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))

  ;; Adds the squared deviations of the 8 lanes from the float64 lanes at means to those at acc.
  (func $square8 (export "square8") (param $p i32) (param $end i32) (param $stride i32) (param $means i32) (param $acc i32)
    (local $d v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $m0 (v128.load offset=0 (local.get $means)))
    (local.set $m1 (v128.load offset=16 (local.get $means)))
    (local.set $m2 (v128.load offset=32 (local.get $means)))
    (local.set $m3 (v128.load offset=48 (local.get $means)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p))) (local.get $m0)))
        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (local.get $m1)))
        (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $p))) (local.get $m2)))
        (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $p))) (local.get $m3)))
        (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $next)))
    (call $addLanes (local.get $acc) (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)))

  ;; The float64 lanes at acc += (a0, a1, a2, a3).
  (func $addLanes (param $acc i32) (param $a0 v128) (param $a1 v128) (param $a2 v128) (param $a3 v128)
    (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (local.get $a0)))
    (v128.store offset=16 (local.get $acc) (f64x2.add (v128.load offset=16 (local.get $acc)) (local.get $a1)))
    (v128.store offset=32 (local.get $acc) (f64x2.add (v128.load offset=32 (local.get $acc)) (local.get $a2)))
    (v128.store offset=48 (local.get $acc) (f64x2.add (v128.load offset=48 (local.get $acc)) (local.get $a3))))

  ;; Replaces the 8 lanes at p, p + stride, ... below end by (x - mean) · factor + offset, with
  ;; the means, factors and offsets of the block at lanes.
  (func $write8 (export "write8") (param $p i32) (param $end i32) (param $stride i32) (param $lanes i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128)
    (local $o0 v128) (local $o1 v128) (local $o2 v128) (local $o3 v128)
    (local.set $m0 (v128.load offset=0 (local.get $lanes)))
    (local.set $m1 (v128.load offset=16 (local.get $lanes)))
    (local.set $m2 (v128.load offset=32 (local.get $lanes)))
    (local.set $m3 (v128.load offset=48 (local.get $lanes)))
    (local.set $f0 (v128.load offset=64 (local.get $lanes)))
    (local.set $f1 (v128.load offset=80 (local.get $lanes)))
    (local.set $f2 (v128.load offset=96 (local.get $lanes)))
    (local.set $f3 (v128.load offset=112 (local.get $lanes)))
    (local.set $o0 (v128.load offset=128 (local.get $lanes)))
    (local.set $o1 (v128.load offset=144 (local.get $lanes)))
    (local.set $o2 (v128.load offset=160 (local.get $lanes)))
    (local.set $o3 (v128.load offset=176 (local.get $lanes)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (v128.store64_lane offset=0 0 (local.get $p)
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p))) (local.get $m0)) (local.get $f0)) (local.get $o0))))
        (v128.store64_lane offset=8 0 (local.get $p)
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (local.get $m1)) (local.get $f1)) (local.get $o1))))
        (v128.store64_lane offset=16 0 (local.get $p)
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $p))) (local.get $m2)) (local.get $f2)) (local.get $o2))))
        (v128.store64_lane offset=24 0 (local.get $p)
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $p))) (local.get $m3)) (local.get $f3)) (local.get $o3))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $next))))

  ;; write8, then SiLU ($silu, written out here for each pair of lanes: a call per pair measured
  ;; slower), before rounding.
  (func $write8Silu (export "write8Silu") (param $p i32) (param $end i32) (param $stride i32) (param $lanes i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128)
    (local $o0 v128) (local $o1 v128) (local $o2 v128) (local $o3 v128)
    (local $v v128) (local $x v128) (local $k v128) (local $r v128) (local $r2 v128) (local $r4 v128) (local $q v128)
    (local.set $m0 (v128.load offset=0 (local.get $lanes)))
    (local.set $m1 (v128.load offset=16 (local.get $lanes)))
    (local.set $m2 (v128.load offset=32 (local.get $lanes)))
    (local.set $m3 (v128.load offset=48 (local.get $lanes)))
    (local.set $f0 (v128.load offset=64 (local.get $lanes)))
    (local.set $f1 (v128.load offset=80 (local.get $lanes)))
    (local.set $f2 (v128.load offset=96 (local.get $lanes)))
    (local.set $f3 (v128.load offset=112 (local.get $lanes)))
    (local.set $o0 (v128.load offset=128 (local.get $lanes)))
    (local.set $o1 (v128.load offset=144 (local.get $lanes)))
    (local.set $o2 (v128.load offset=160 (local.get $lanes)))
    (local.set $o3 (v128.load offset=176 (local.get $lanes)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $p))) (local.get $m0)) (local.get $f0)) (local.get $o0)))
        (local.set $x (f64x2.min (f64x2.max (f64x2.neg (local.get $v)) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
        (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
        (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 6.93147180369123816490e-01)))) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
        (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
        (local.set $q (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.splat (f64.const 1.0)) (f64x2.mul (f64x2.splat (f64.const 1.0)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $r))) (local.get $r2))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.041666666666666664)) (f64x2.mul (f64x2.splat (f64.const 0.008333333333333333)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.001388888888888889)) (f64x2.mul (f64x2.splat (f64.const 0.0001984126984126984)) (local.get $r))) (local.get $r2))) (local.get $r4))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-06)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-08)) (local.get $r))) (local.get $r2))) (f64x2.mul (local.get $r4) (local.get $r4)))))
        (local.set $q (i64x2.add (local.get $q) (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i32.const 52))))
        (local.set $v (f64x2.div (local.get $v) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $q))))
        (v128.store64_lane offset=0 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $v)))
        (local.set $v (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (local.get $m1)) (local.get $f1)) (local.get $o1)))
        (local.set $x (f64x2.min (f64x2.max (f64x2.neg (local.get $v)) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
        (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
        (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 6.93147180369123816490e-01)))) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
        (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
        (local.set $q (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.splat (f64.const 1.0)) (f64x2.mul (f64x2.splat (f64.const 1.0)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $r))) (local.get $r2))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.041666666666666664)) (f64x2.mul (f64x2.splat (f64.const 0.008333333333333333)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.001388888888888889)) (f64x2.mul (f64x2.splat (f64.const 0.0001984126984126984)) (local.get $r))) (local.get $r2))) (local.get $r4))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-06)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-08)) (local.get $r))) (local.get $r2))) (f64x2.mul (local.get $r4) (local.get $r4)))))
        (local.set $q (i64x2.add (local.get $q) (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i32.const 52))))
        (local.set $v (f64x2.div (local.get $v) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $q))))
        (v128.store64_lane offset=8 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $v)))
        (local.set $v (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $p))) (local.get $m2)) (local.get $f2)) (local.get $o2)))
        (local.set $x (f64x2.min (f64x2.max (f64x2.neg (local.get $v)) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
        (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
        (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 6.93147180369123816490e-01)))) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
        (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
        (local.set $q (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.splat (f64.const 1.0)) (f64x2.mul (f64x2.splat (f64.const 1.0)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $r))) (local.get $r2))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.041666666666666664)) (f64x2.mul (f64x2.splat (f64.const 0.008333333333333333)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.001388888888888889)) (f64x2.mul (f64x2.splat (f64.const 0.0001984126984126984)) (local.get $r))) (local.get $r2))) (local.get $r4))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-06)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-08)) (local.get $r))) (local.get $r2))) (f64x2.mul (local.get $r4) (local.get $r4)))))
        (local.set $q (i64x2.add (local.get $q) (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i32.const 52))))
        (local.set $v (f64x2.div (local.get $v) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $q))))
        (v128.store64_lane offset=16 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $v)))
        (local.set $v (f64x2.add (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $p))) (local.get $m3)) (local.get $f3)) (local.get $o3)))
        (local.set $x (f64x2.min (f64x2.max (f64x2.neg (local.get $v)) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
        (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
        (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 6.93147180369123816490e-01)))) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
        (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
        (local.set $q (f64x2.add (f64x2.add (f64x2.add (f64x2.add (f64x2.splat (f64.const 1.0)) (f64x2.mul (f64x2.splat (f64.const 1.0)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $r))) (local.get $r2))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.041666666666666664)) (f64x2.mul (f64x2.splat (f64.const 0.008333333333333333)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.001388888888888889)) (f64x2.mul (f64x2.splat (f64.const 0.0001984126984126984)) (local.get $r))) (local.get $r2))) (local.get $r4))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-06)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-08)) (local.get $r))) (local.get $r2))) (f64x2.mul (local.get $r4) (local.get $r4)))))
        (local.set $q (i64x2.add (local.get $q) (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i32.const 52))))
        (local.set $v (f64x2.div (local.get $v) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $q))))
        (v128.store64_lane offset=24 0 (local.get $p) (f32x4.demote_f64x2_zero (local.get $v)))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $next))))

  ;; SiLU of two float64 lanes, v / (1 + exp(-v)). exp by Cody and Waite: x = k ln 2 + r, |r| <= ln 2 / 2,
  ;; e^r by its Taylor series to r^11 (error below 1e-14 relative) in Estrin's form (pairs of terms
  ;; by powers r^2, r^4, r^8: a chain of 7 operations where Horner's has 22), 2^k added to the
  ;; exponent bits. x is clamped to [-708, 709], where 2^k stays a normal float64: beyond, e^x is
  ;; 0 or above float32's range either way, and silu is v or a float32 0. NaN stays NaN.
  (func $silu (param $v v128) (result v128)
    (local $x v128) (local $k v128) (local $r v128) (local $r2 v128) (local $r4 v128) (local $q v128)
    (local.set $x (f64x2.min (f64x2.max (f64x2.neg (local.get $v)) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
    (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
    (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 6.93147180369123816490e-01))))
      (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.90821492927058770002e-10)))))
    (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
    (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
    (local.set $q
      (f64x2.add
        (f64x2.add
          (f64x2.add (f64x2.add (f64x2.splat (f64.const 1.0)) (f64x2.mul (f64x2.splat (f64.const 1.0)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.5)) (f64x2.mul (f64x2.splat (f64.const 0.16666666666666666)) (local.get $r))) (local.get $r2)))
          (f64x2.mul (f64x2.add (f64x2.add (f64x2.splat (f64.const 0.041666666666666664)) (f64x2.mul (f64x2.splat (f64.const 0.008333333333333333)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 0.001388888888888889)) (f64x2.mul (f64x2.splat (f64.const 0.0001984126984126984)) (local.get $r))) (local.get $r2))) (local.get $r4)))
        (f64x2.mul
          (f64x2.add (f64x2.add (f64x2.splat (f64.const 2.48015873015873e-05)) (f64x2.mul (f64x2.splat (f64.const 2.7557319223985893e-06)) (local.get $r))) (f64x2.mul (f64x2.add (f64x2.splat (f64.const 2.755731922398589e-07)) (f64x2.mul (f64x2.splat (f64.const 2.505210838544172e-08)) (local.get $r))) (local.get $r2)))
          (f64x2.mul (local.get $r4) (local.get $r4)))))
    (local.set $q (i64x2.add (local.get $q) (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i32.const 52))))
    (f64x2.div (local.get $v) (f64x2.add (f64x2.splat (f64.const 1)) (local.get $q))))

  ;; Sets the 8 float64 lanes at to to value.
  (func $fill8 (param $to i32) (param $value f64)
    (local $v v128)
    (local.set $v (f64x2.splat (local.get $value)))
    (v128.store (local.get $to) (local.get $v))
    (v128.store offset=16 (local.get $to) (local.get $v))
    (v128.store offset=32 (local.get $to) (local.get $v))
    (v128.store offset=48 (local.get $to) (local.get $v)))

  ;; The sum of the 8 float64 lanes at from.
  (func $total8 (param $from i32) (result f64)
    (local $s v128)
    (local.set $s
      (f64x2.add
        (f64x2.add (v128.load (local.get $from)) (v128.load offset=16 (local.get $from)))
        (f64x2.add (v128.load offset=32 (local.get $from)) (v128.load offset=48 (local.get $from)))))
    (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s))))

  ;; For each of `instances` contiguous runs of `size` float32 from p: its mean and the sum of
  ;; its squared deviations, written as float64 to stats (24 bytes per instance, the third
  ;; float64 left alone). scratch: 128 bytes of lanes.
  (func (export "contiguousMoments") (param $p i32) (param $instances i32) (param $size i32) (param $stats i32) (param $scratch i32)
    (local $blocksEnd i32) (local $end i32) (local $i i32) (local $sum f64) (local $mean f64) (local $d f64)
    (block $done
      (loop $instance
        (br_if $done (i32.eqz (local.get $instances)))
        (local.set $blocksEnd (i32.add (local.get $p) (i32.shl (i32.and (local.get $size) (i32.const -8)) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $size) (i32.const 2))))
        (call $fill8 (local.get $scratch) (f64.const 0))
        (call $sum8 (local.get $p) (local.get $blocksEnd) (i32.const 32) (local.get $scratch))
        (local.set $sum (call $total8 (local.get $scratch)))
        (local.set $i (local.get $blocksEnd))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.load (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail)))
        (local.set $mean (f64.div (local.get $sum) (f64.convert_i32_u (local.get $size))))
        (call $fill8 (local.get $scratch) (f64.const 0))
        (call $fill8 (i32.add (local.get $scratch) (i32.const 64)) (local.get $mean))
        (call $square8 (local.get $p) (local.get $blocksEnd) (i32.const 32) (i32.add (local.get $scratch) (i32.const 64)) (local.get $scratch))
        (local.set $sum (call $total8 (local.get $scratch)))
        (local.set $i (local.get $blocksEnd))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $d (f64.sub (f64.promote_f32 (f32.load (local.get $i))) (local.get $mean)))
            (local.set $sum (f64.add (local.get $sum) (f64.mul (local.get $d) (local.get $d))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail)))
        (f64.store (local.get $stats) (local.get $mean))
        (f64.store offset=8 (local.get $stats) (local.get $sum))
        (local.set $stats (i32.add (local.get $stats) (i32.const 24)))
        (local.set $p (local.get $end))
        (local.set $instances (i32.sub (local.get $instances) (i32.const 1)))
        (br $instance))))

  ;; For each of `instances` contiguous runs of `size` float32 from p, replaces x by
  ;; (x - mean) · factor + offset, with the instance's (mean, factor, offset) float64 at stats
  ;; (24 bytes per instance), then SiLU where `silu` is 1. scratch: 192 bytes of lanes.
  (func (export "contiguousWrite") (param $p i32) (param $instances i32) (param $size i32) (param $stats i32) (param $scratch i32) (param $silu i32)
    (local $blocksEnd i32) (local $end i32) (local $i i32) (local $mean f64) (local $factor f64) (local $offset f64) (local $y f64)
    (block $done
      (loop $instance
        (br_if $done (i32.eqz (local.get $instances)))
        (local.set $blocksEnd (i32.add (local.get $p) (i32.shl (i32.and (local.get $size) (i32.const -8)) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $size) (i32.const 2))))
        (local.set $mean (f64.load (local.get $stats)))
        (local.set $factor (f64.load offset=8 (local.get $stats)))
        (local.set $offset (f64.load offset=16 (local.get $stats)))
        (call $fill8 (local.get $scratch) (local.get $mean))
        (call $fill8 (i32.add (local.get $scratch) (i32.const 64)) (local.get $factor))
        (call $fill8 (i32.add (local.get $scratch) (i32.const 128)) (local.get $offset))
        (if (local.get $silu)
          (then (call $write8Silu (local.get $p) (local.get $blocksEnd) (i32.const 32) (local.get $scratch)))
          (else (call $write8 (local.get $p) (local.get $blocksEnd) (i32.const 32) (local.get $scratch))))
        (local.set $i (local.get $blocksEnd))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $y
              (f64.add
                (f64.mul (f64.sub (f64.promote_f32 (f32.load (local.get $i))) (local.get $mean)) (local.get $factor))
                (local.get $offset)))
            (if (local.get $silu)
              (then (local.set $y (f64x2.extract_lane 0 (call $silu (f64x2.splat (local.get $y)))))))
            (f32.store (local.get $i) (f32.demote_f64 (local.get $y)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $tail)))
        (local.set $stats (i32.add (local.get $stats) (i32.const 24)))
        (local.set $p (local.get $end))
        (local.set $instances (i32.sub (local.get $instances) (i32.const 1)))
        (br $instance))))
)
