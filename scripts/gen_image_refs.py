#!/usr/bin/python3
"""Make the photos and the reference arrays of the image tests.

    /usr/bin/python3 scripts/gen_image_refs.py        (from the repository root)

Inputs are real photos shipped with Debian's scikit-image (astronaut, chelsea,
coffee, camera) and scikit-learn (china, flower). They are shrunk and
re-encoded with PIL so that every file is small, and so that each decoder
path is covered once: baseline / progressive / grayscale / CMYK JPEG, EXIF
orientations 2..8 (little and big endian TIFF headers), and PNG in 8-bit
RGB, RGBA, palette, 16-bit gray, and Adam7-interlaced gray+alpha and 16-bit
RGB (the last two written by hand below, since PIL cannot interlace).

References (testdata/expected/image/*.npy) are what PIL / torchvision make
of the same files: decoded pixels (after ImageOps.exif_transpose), bilinear
and nearest resizes, torchvision's Resize + CenterCrop, ITU-R 601-2 luma,
and matplotlib colour-map samples. The versions used are written to
testdata/expected/image/VERSIONS.txt; rerun the script after a PIL upgrade
and compare. Output is deterministic (fixed seeds).
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
import PIL
import PIL.features
from PIL import Image, ImageOps

import matplotlib
import skimage
import sklearn
import torchvision
from torchvision import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTOS = os.path.join(ROOT, 'testdata', 'images', 'photos')
EXPECTED = os.path.join(ROOT, 'testdata', 'expected', 'image')
SKIMAGE_DATA = os.path.join(os.path.dirname(skimage.__file__), 'data')
SKLEARN_IMAGES = os.path.join(os.path.dirname(sklearn.__file__), 'datasets', 'images')

BILINEAR = Image.BILINEAR
NEAREST = Image.NEAREST


def src(name):
    if name in ('china.jpg', 'flower.jpg'):
        return Image.open(os.path.join(SKLEARN_IMAGES, name))
    return Image.open(os.path.join(SKIMAGE_DATA, name))


def photo(name):
    return os.path.join(PHOTOS, name)


def save_npy(name, array):
    np.save(os.path.join(EXPECTED, name), np.ascontiguousarray(array))


def decoded(path):
    """What a torchvision pipeline sees: PIL decode with the EXIF orientation applied."""
    im = Image.open(path)
    im.load()
    return ImageOps.exif_transpose(im)


# ---- hand-written PNG (Adam7) ----

def png_chunk(tag, data):
    return (struct.pack('>I', len(data)) + tag + data
            + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff))


def write_png_adam7(path, array, color_type, bit_depth):
    """array: H x W x C (uint8 or big-endian-able uint16). Filter 0 on every row."""
    h, w = array.shape[:2]
    dtype = '>u2' if bit_depth == 16 else 'u1'
    raw = b''
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                           (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        sub = array[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw += b'\x00' + row.astype(dtype).tobytes()
    ihdr = struct.pack('>IIBBBBB', w, h, bit_depth, color_type, 0, 0, 1)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n')
        f.write(png_chunk(b'IHDR', ihdr))
        f.write(png_chunk(b'IDAT', zlib.compress(raw, 9)))
        f.write(png_chunk(b'IEND', b''))


# ---- EXIF with a big-endian TIFF header, written by hand ----

def exif_big_endian(orientation):
    make = b'lrpx-test\x00'
    n_entries = 2
    ifd_size = 2 + 12 * n_entries + 4
    data_off = 8 + ifd_size
    tiff = b'MM\x00\x2a' + struct.pack('>I', 8)
    tiff += struct.pack('>H', n_entries)
    tiff += struct.pack('>HHII', 0x010F, 2, len(make), data_off)        # Make, ASCII
    tiff += struct.pack('>HHIHH', 0x0112, 3, 1, orientation, 0)          # Orientation, SHORT
    tiff += struct.pack('>I', 0)
    tiff += make
    return b'Exif\x00\x00' + tiff


def insert_app1(jpeg, payload):
    """Put an APP1 segment right after SOI + APP0 of a PIL-written JPEG."""
    assert jpeg[:4] == b'\xff\xd8\xff\xe0'
    app0_len = struct.unpack('>H', jpeg[4:6])[0]
    cut = 4 + app0_len
    seg = b'\xff\xe1' + struct.pack('>H', len(payload) + 2) + payload
    return jpeg[:cut] + seg + jpeg[cut:]


def main():
    os.makedirs(PHOTOS, exist_ok=True)
    os.makedirs(EXPECTED, exist_ok=True)
    rng = np.random.default_rng(20240611)

    # ---- JPEG photos ----
    astro = src('astronaut.png').convert('RGB').resize((288, 288), Image.LANCZOS)
    astro.save(photo('astronaut.jpg'), quality=90)

    chelsea = src('chelsea.png').convert('RGB').resize((300, 200), Image.LANCZOS)
    chelsea.save(photo('chelsea_progressive.jpg'), quality=85, progressive=True)

    coffee = src('coffee.png').convert('RGB').resize((300, 200), Image.LANCZOS)
    coffee.convert('L').save(photo('coffee_gray.jpg'), quality=90)

    china = src('china.jpg').convert('RGB').resize((240, 160), Image.LANCZOS)
    china.convert('CMYK').save(photo('china_cmyk.jpg'), quality=90)

    flower = src('flower.jpg').convert('RGB').resize((240, 160), Image.LANCZOS)
    exif = Image.Exif()
    exif[0x0112] = 6
    flower.save(photo('flower_exif6.jpg'), quality=90, exif=exif.tobytes())

    # small files for every other orientation: even ones little endian
    # (PIL's writer), odd ones big endian (hand-written, with a Make tag first)
    tiny = src('flower.jpg').convert('RGB').crop((200, 100, 520, 340)).resize((32, 24), Image.LANCZOS)
    for k in (2, 3, 4, 5, 7, 8):
        path = photo('orient_%d.jpg' % k)
        if k % 2 == 0:
            e = Image.Exif()
            e[0x0112] = k
            tiny.save(path, quality=92, exif=e.tobytes())
        else:
            buf = io.BytesIO()
            tiny.save(buf, format='JPEG', quality=92)
            with open(path, 'wb') as f:
                f.write(insert_app1(buf.getvalue(), exif_big_endian(k)))

    for name in ('astronaut.jpg', 'chelsea_progressive.jpg', 'coffee_gray.jpg',
                 'china_cmyk.jpg', 'flower_exif6.jpg') + tuple('orient_%d.jpg' % k for k in (2, 3, 4, 5, 7, 8)):
        im = decoded(photo(name))
        if im.mode not in ('L', 'RGB'):
            im = im.convert('RGB')
        save_npy(name.replace('.jpg', '_decoded.npy'), np.asarray(im))

    # ---- PNG ----
    astro_png = src('astronaut.png').convert('RGB').crop((160, 40, 288, 168))  # the face, 128x128
    astro_png.save(photo('astronaut_rgb.png'))
    save_npy('astronaut_rgb_decoded.npy', np.asarray(Image.open(photo('astronaut_rgb.png'))))

    coffee_s = src('coffee.png').convert('RGB').resize((128, 96), Image.LANCZOS)
    yy, xx = np.mgrid[0:96, 0:128]
    alpha = np.clip((xx * 2 + yy) * 255 // (127 * 2 + 95), 0, 255).astype(np.uint8)
    rgba = np.dstack([np.asarray(coffee_s), alpha])
    Image.fromarray(rgba, 'RGBA').save(photo('coffee_rgba.png'))
    rgba_back = np.asarray(Image.open(photo('coffee_rgba.png')))
    save_npy('coffee_rgba_decoded.npy', rgba_back)
    # composited on white, from the formula (float64, rounded)
    a = rgba_back[..., 3:4].astype(np.float64) / 255.0
    on_white = np.rint(rgba_back[..., :3] * a + 255.0 * (1.0 - a)).astype(np.uint8)
    save_npy('coffee_rgba_on_white.npy', on_white)

    pal = src('chelsea.png').convert('RGB').resize((128, 96), Image.LANCZOS).quantize(64)
    pal.save(photo('chelsea_palette.png'))
    save_npy('chelsea_palette_decoded.npy', np.asarray(Image.open(photo('chelsea_palette.png')).convert('RGB')))

    cam = np.asarray(src('camera.png').resize((128, 128), Image.LANCZOS), dtype=np.float64)
    cam16 = np.clip(cam * 257.0 + rng.integers(-128, 128, cam.shape), 0, 65535).astype(np.uint16)
    Image.fromarray(cam16, 'I;16').save(photo('camera_gray16.png'))
    back16 = np.asarray(Image.open(photo('camera_gray16.png'))).astype(np.uint16)
    assert np.array_equal(back16, cam16)
    save_npy('camera_gray16_decoded.npy', back16.astype(np.int32))  # lrpx_npy_read has no uint16

    # Adam7: gray+alpha 8-bit and RGB 16-bit, odd sizes so every pass is partial
    gray = np.asarray(src('camera.png').resize((37, 29), Image.LANCZOS))
    ga = np.dstack([gray, np.asarray(rng.integers(0, 256, gray.shape), np.uint8)])
    write_png_adam7(photo('camera_ga_adam7.png'), ga, color_type=4, bit_depth=8)
    la = np.asarray(Image.open(photo('camera_ga_adam7.png')))
    assert np.array_equal(la, ga), 'PIL disagrees with the hand-written gray+alpha PNG'
    save_npy('camera_ga_adam7_decoded.npy', ga)

    rgb16 = np.asarray(src('chelsea.png').convert('RGB').resize((33, 27), Image.LANCZOS), np.float64)
    rgb16 = np.clip(rgb16 * 257.0 + rng.integers(-128, 128, rgb16.shape), 0, 65535).astype(np.uint16)
    write_png_adam7(photo('chelsea_rgb16_adam7.png'), rgb16, color_type=2, bit_depth=16)
    # PIL reads 16-bit RGB as 8-bit (high byte); check that much of the file
    hi = np.asarray(Image.open(photo('chelsea_rgb16_adam7.png')).convert('RGB'))
    assert np.array_equal(hi, (rgb16 >> 8).astype(np.uint8)), 'hand-written 16-bit PNG'
    save_npy('chelsea_rgb16_adam7_decoded.npy', rgb16.astype(np.int32))

    # PNG with an eXIf chunk (orientation 8)
    tiny.save(photo('orient_8.png'), exif=_exif(8))
    save_npy('orient_8_png_decoded.npy', np.asarray(decoded(photo('orient_8.png')).convert('RGB')))

    # ---- resize references (PIL on PIL's decode) ----
    tv = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
    save_npy('astronaut_imagenet_u8.npy', np.asarray(tv(decoded(photo('astronaut.jpg')).convert('RGB'))))

    # shorter side 128 then an odd crop (h=111, w=101): exercises round-half-even offsets
    tv2 = transforms.Compose([transforms.Resize(128), transforms.CenterCrop((111, 101))])
    save_npy('chelsea_r128_c111x101_u8.npy', np.asarray(tv2(decoded(photo('chelsea_progressive.jpg')))))

    # crop larger than the image: torchvision pads with zeros
    tv3 = transforms.Compose([transforms.Resize(20), transforms.CenterCrop((40, 25))])
    save_npy('chelsea_r20_c40x25_u8.npy', np.asarray(tv3(decoded(photo('chelsea_progressive.jpg')))))

    gray_dec = decoded(photo('coffee_gray.jpg'))
    save_npy('coffee_gray_exact28_u8.npy', np.asarray(gray_dec.resize((28, 28), BILINEAR)))

    china_rgb = decoded(photo('china_cmyk.jpg')).convert('RGB')
    save_npy('china_exact100x80_u8.npy', np.asarray(china_rgb.resize((100, 80), BILINEAR)))

    chel = decoded(photo('chelsea_progressive.jpg'))
    save_npy('chelsea_nearest75x50_u8.npy', np.asarray(chel.resize((75, 50), NEAREST)))
    save_npy('chelsea_nearest37x23_u8.npy', np.asarray(chel.resize((37, 23), NEAREST)))
    save_npy('chelsea_nearest450x310_u8.npy', np.asarray(chel.resize((450, 310), NEAREST))[::7, ::7])

    astro_face = Image.open(photo('astronaut_rgb.png'))
    save_npy('astronaut_rgb_up160x144_u8.npy', np.asarray(astro_face.resize((160, 144), BILINEAR)))
    save_npy('astronaut_rgb_gray_u8.npy', np.asarray(astro_face.convert('L')))
    save_npy('astronaut_rgb_gray28_u8.npy', np.asarray(astro_face.convert('L').resize((28, 28), BILINEAR)))

    # ---- matplotlib colour maps, sampled finely (no 256-entry LUT) ----
    u = np.linspace(0.0, 1.0, 101)
    for name in ('bwr', 'seismic', 'hot', 'gray', 'afmhot'):
        cmap = matplotlib.colormaps[name].resampled(1 << 16)
        save_npy('cmap_%s.npy' % name, cmap(u)[:, :3].astype(np.float64))

    with open(os.path.join(EXPECTED, 'VERSIONS.txt'), 'w') as f:
        f.write('generated by scripts/gen_image_refs.py\n')
        f.write('python %s\n' % sys.version.split()[0])
        f.write('Pillow %s (libjpeg %s, zlib %s)\n' % (PIL.__version__, PIL.features.version('jpg'),
                                                       PIL.features.version('zlib')))
        f.write('numpy %s\nscikit-image %s\nscikit-learn %s\ntorchvision %s\nmatplotlib %s\n' % (
            np.__version__, skimage.__version__, sklearn.__version__, torchvision.__version__,
            matplotlib.__version__))

    total = 0
    for d in (PHOTOS, EXPECTED):
        for n in sorted(os.listdir(d)):
            total += os.path.getsize(os.path.join(d, n))
    print('wrote %s and %s: %.0f KiB in all' % (PHOTOS, EXPECTED, total / 1024.0))


def _exif(orientation):
    e = Image.Exif()
    e[0x0112] = orientation
    return e.tobytes()


if __name__ == '__main__':
    main()
