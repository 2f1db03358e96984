//! PNG text with correct glyph spacing. plotters' ab_glyph renderer places each glyph's ink at
//! the pen position, dropping the glyph's left side bearing, so narrow glyphs ("." ":" "i")
//! leave gaps after them and wide ones crowd their neighbours. `GlyphBitmap` is the bitmap
//! backend with its own `draw_text`, which positions every glyph where the font puts it; all
//! other drawing goes to plotters' backend unchanged. (SVG text is laid out by the viewer.)

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use std::sync::OnceLock;

/// DejaVu Sans, embedded so that plots render on machines without system fonts.
pub static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn font() -> &'static FontRef<'static> {
    static PARSED: OnceLock<FontRef<'static>> = OnceLock::new();
    PARSED.get_or_init(|| FontRef::try_from_slice(FONT).expect("embedded font is valid"))
}

pub struct GlyphBitmap<'a>(pub BitMapBackend<'a>);

type Drawn = std::result::Result<(), DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

impl DrawingBackend for GlyphBitmap<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Drawn {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Drawn {
        self.0.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn {
        self.0.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Drawn {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(&mut self, upper_left: BackendCoord, bottom_right: BackendCoord, style: &S, fill: bool) -> Drawn {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Drawn {
        self.0.blit_bitmap(pos, size, src)
    }

    /// plotters' own `draw_text` (the same layout box, anchor and rotation, the baseline half a
    /// font size below the box's top as plotters puts it), with each glyph's ink placed at its
    /// side bearing.
    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, style: &S, pos: BackendCoord) -> Drawn {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        let scale = PxScale::from(style.size() as f32);
        let scaled = font().as_scaled(scale);
        let (mut pen, mut previous) = (0f32, None);
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                pen += scaled.kern(p, id);
            }
            previous = Some(id);
            if let Some(outline) = font().outline_glyph(id.with_scale_and_position(scale, ab_glyph::point(pen, scale.y / 2.0))) {
                let bounds = outline.px_bounds();
                let mut ink = Vec::new();
                outline.draw(|x, y, coverage| ink.push((bounds.min.x as i32 + x as i32, bounds.min.y as i32 + y as i32, coverage)));
                for (x, y, coverage) in ink {
                    let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
                    let (x, y) = (pos.0 + x, pos.1 + y);
                    if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                        self.draw_pixel((x, y), BackendColor { alpha: color.alpha * coverage as f64, rgb: color.rgb })?;
                    }
                }
            }
            pen += scaled.h_advance(id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inked columns of `text` drawn at the top left of a white canvas, at 40 px.
    fn ink_columns(text: &str) -> Vec<usize> {
        super::super::register_font();
        let (w, h) = (200u32, 60u32);
        let mut pixels = vec![255u8; (w * h * 3) as usize];
        {
            let area = GlyphBitmap(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
            area.draw(&Text::new(text, (0, 10), ("sans-serif", 40).into_font().color(&BLACK))).unwrap();
            area.present().unwrap();
        }
        (0..w as usize).filter(|&x| (0..h as usize).any(|y| pixels[(y * w as usize + x) * 3] < 128)).collect()
    }

    #[test]
    fn glyphs_keep_their_side_bearings() {
        let scaled = font().as_scaled(PxScale::from(40.0));
        let period = scaled.glyph_id('.');
        let (bearing, advance) = (scaled.h_side_bearing(period), scaled.h_advance(period));
        assert!(bearing > 3.0, "DejaVu's period sits inside its box: bearing {bearing}");
        let ink = ink_columns("..");
        // The first dot starts at its bearing (plotters' renderer puts it at 0), the second one
        // advance further on.
        assert!((ink[0] as f32 - bearing).abs() <= 1.0, "first ink at {}, bearing {bearing}", ink[0]);
        let second = ink.windows(2).find(|p| p[1] > p[0] + 1).map(|p| p[1]).expect("two dots");
        assert!((second as f32 - ink[0] as f32 - advance).abs() <= 1.0, "dots {} apart, advance {advance}", second - ink[0]);
    }
}
